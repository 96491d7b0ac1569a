from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from .models import ApprovalRequest, Attachment, Category, Event, EventRecord, Open311Key
from .services.keys import issue_open311_key


class ReadOnlyAdmin(admin.ModelAdmin):
    """History and events change only through the service layer, never through a form."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class SubcategoryInline(admin.TabularInline):
    model = Category
    fk_name = "parent"
    fields = ("code", "name", "name_en", "default_urgency", "keywords", "is_active")
    extra = 0


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "name_en", "kind", "parent", "default_urgency", "is_active")
    list_filter = ("kind", "default_urgency", "is_active", ("parent", admin.RelatedOnlyFieldListFilter))
    search_fields = ("code", "name", "name_en", "keywords")
    list_select_related = ("parent",)

    def get_inlines(self, request, obj):
        return [SubcategoryInline] if obj is not None and obj.parent_id is None else []


class RecordInline(admin.TabularInline):
    model = EventRecord
    fields = ("seq", "action", "actor", "actor_role", "from_state", "to_state", "reason", "created_at", "hash")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("seq",)

    def has_add_permission(self, request, obj=None):
        return False


class AttachmentInline(admin.TabularInline):
    model = Attachment
    fields = ("kind", "file", "content_type", "width", "height", "size", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ("code", "title", "category", "urgency", "state", "owner_unit", "lead_department", "reported_at")
    list_filter = ("state", "urgency", "source", "category__parent", "owner_unit__tier")
    search_fields = ("code", "title", "address")
    date_hierarchy = "reported_at"
    list_select_related = ("category", "owner_unit", "lead_department")
    inlines = [AttachmentInline, RecordInline]
    show_full_result_count = False


@admin.register(EventRecord)
class EventRecordAdmin(ReadOnlyAdmin):
    list_display = ("event", "seq", "action", "actor", "actor_role", "from_state", "to_state", "created_at")
    list_filter = ("action", "actor_role")
    search_fields = ("event__code", "reason")
    list_select_related = ("event", "actor")
    show_full_result_count = False


@admin.register(ApprovalRequest)
class ApprovalRequestAdmin(ReadOnlyAdmin):
    list_display = ("event", "kind", "status", "requested_by", "requested_at", "decided_by", "decided_at")
    list_filter = ("kind", "status")
    search_fields = ("event__code", "reason")
    list_select_related = ("event", "requested_by", "decided_by")


admin.site.site_header = _("citygov administration")
admin.site.site_title = _("citygov")


@admin.register(Open311Key)
class Open311KeyAdmin(admin.ModelAdmin):
    """Issue and revoke Open311 API keys; the key is shown once, when issued."""

    list_display = ("name", "prefix", "jurisdiction", "created_at", "revoked_at")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    search_fields = ("name", "prefix")
    fields = ("name", "jurisdiction", "prefix", "created_at", "revoked_at")
    readonly_fields = ("prefix", "created_at", "revoked_at")
    autocomplete_fields = ["jurisdiction"]
    actions = ["revoke"]

    def save_model(self, request, obj, form, change):
        if not change:
            key = issue_open311_key(obj)
            messages.warning(
                request,
                _("API key for %(name)s: %(key)s — copy it now, it will not be shown again.")
                % {"name": obj.name, "key": key},
            )
        else:
            super().save_model(request, obj, form, change)

    @admin.action(description=_("Revoke the selected keys"))
    def revoke(self, request, queryset):
        from django.utils import timezone

        count = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        self.message_user(request, _("%(n)d keys revoked.") % {"n": count})

    def has_delete_permission(self, request, obj=None):
        return False
