from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext_lazy as _
from guardian.admin import GuardedModelAdmin

from accounts.city_import import import_city
from accounts.models import Department, DepartmentType, Membership, OrgUnit, User
from accounts.services import membership_saved, sync_user_permissions
from interfaces.admin.city_import_form import CityImportForm

# Importing a city writes all four tables; whoever may not add to one of them may not import.
CITY_IMPORT_PERMISSIONS = (
    "accounts.add_orgunit",
    "accounts.change_orgunit",
    "accounts.add_department",
    "accounts.change_department",
    "accounts.add_user",
    "accounts.change_user",
    "accounts.add_membership",
)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["org_unit", "department"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    fieldsets = (*BaseUserAdmin.fieldsets, (_("Profile"), {"fields": ("display_name", "phone")}))
    list_display = ("username", "display_name", "email", "is_active", "is_staff")
    list_filter = ("is_active", "is_staff", "memberships__role")
    search_fields = ("username", "display_name", "email", "phone")
    inlines = [MembershipInline]

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # Memberships edited inline: keep the guardian grants in step.
        sync_user_permissions(form.instance)


class TierListFilter(admin.SimpleListFilter):
    title = _("inside")
    parameter_name = "within"

    def lookups(self, request, model_admin):
        return [(u.code, str(u)) for u in OrgUnit.objects.filter(tier__lte=2)]

    def queryset(self, request, queryset):
        if self.value():
            unit = OrgUnit.objects.filter(code=self.value()).first()
            if unit:
                return queryset.filter(path__startswith=unit.path)
        return queryset


@admin.register(OrgUnit)
class OrgUnitAdmin(GuardedModelAdmin):
    list_display = ("code", "name", "tier", "parent", "is_active")
    list_filter = ("tier", "is_active", TierListFilter)
    search_fields = ("code", "name")
    autocomplete_fields = ["parent"]
    readonly_fields = ("path",)
    list_select_related = ("parent",)
    change_list_template = "admin/accounts/orgunit/change_list.html"

    def get_urls(self):
        return [
            path(
                "import-city/", self.admin_site.admin_view(self.import_city_view), name="accounts_orgunit_import_city"
            ),
            *super().get_urls(),
        ]

    def import_city_view(self, request):
        """导入城市: the three files through the same service as `manage.py import_city`, errors beside their rows."""
        if not request.user.has_perms(CITY_IMPORT_PERMISSIONS):
            raise PermissionDenied
        form = CityImportForm(request.POST, request.FILES) if request.method == "POST" else CityImportForm()
        report = None
        if form.is_bound and form.is_valid():
            report = import_city(**form.sources(), dry_run=form.cleaned_data["dry_run"])
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Import a city"),
            "form": form,
            "report": report,
        }
        return TemplateResponse(request, "admin/accounts/orgunit/import_city.html", context)


@admin.register(DepartmentType)
class DepartmentTypeAdmin(admin.ModelAdmin):
    list_display = ("code", "name")
    search_fields = ("code", "name")


@admin.register(Department)
class DepartmentAdmin(GuardedModelAdmin):
    list_display = ("code", "name", "type", "org_unit", "is_active")
    list_filter = ("type", "org_unit__tier", "is_active")
    search_fields = ("code", "name", "org_unit__name", "org_unit__code")
    autocomplete_fields = ["org_unit"]
    list_select_related = ("type", "org_unit")


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "role", "org_unit", "department", "created_at")
    list_filter = ("role", "org_unit__tier")
    search_fields = ("user__username", "user__display_name", "org_unit__name", "department__name")
    autocomplete_fields = ["user", "org_unit", "department"]
    list_select_related = ("user", "org_unit", "department")

    def save_model(self, request, obj, form, change):
        # The row still holds the previous user: the grants must leave them too.
        previous = Membership.objects.filter(pk=obj.pk).values_list("user_id", flat=True).first() if change else None
        super().save_model(request, obj, form, change)
        membership_saved(obj, previous_user_id=previous)

    def delete_model(self, request, obj):
        user = obj.user
        super().delete_model(request, obj)
        sync_user_permissions(user)

    def delete_queryset(self, request, queryset):
        users = {m.user for m in queryset.select_related("user")}
        super().delete_queryset(request, queryset)
        for user in users:
            sync_user_permissions(user)
