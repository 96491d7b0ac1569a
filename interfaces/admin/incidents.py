import json

from django.contrib import admin, messages
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from incidents.models import ApprovalRequest, Attachment, Category, Event, EventRecord, Open311Key
from incidents.privacy import contact_for
from incidents.selectors import event_scope_q, events_for_user, history_for_user
from interfaces.attachments import photo_url
from operations.services.keys import issue_open311_key


class EventScopedAdmin(admin.ModelAdmin):
    """Admin pages about events show a staff user only the events of their jurisdiction.

    The same scope as everywhere else (incidents.selectors.events_for_user): a
    district operator with staff rights sees the district's events, their history,
    clocks, requests and messages, and nothing of the next district; the rest does
    not exist (the admin answers as for a missing object). Superusers see all.
    `event_path` is the lookup from the model to its event ("" for Event itself).
    """

    event_path = "event"

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        if not self.event_path:
            return qs.filter(event_scope_q(request.user))
        return qs.filter(**{f"{self.event_path}__in": events_for_user(request.user).values("pk")})

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is not None:
            # Display methods get only the object; they mask and redact for this viewer.
            obj.admin_viewer = request.user
        return obj


class ReadOnlyAdmin(EventScopedAdmin):
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
    fields = ("kind", "photo", "content_type", "width", "height", "size", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description=_("photo"))
    def photo(self, obj: Attachment) -> str:
        # Through the scoped photo view: MEDIA_URL serves nothing. The thumbnail, linking to the photo.
        return format_html(
            '<a href="{}"><img src="{}" alt="{}" height="48" loading="lazy"></a>',
            photo_url(obj),
            photo_url(obj, "thumb"),
            obj.file.name.rsplit("/", 1)[-1],
        )


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    event_path = ""
    list_display = ("code", "title", "category", "urgency", "state", "owner_unit", "lead_department", "reported_at")
    list_filter = ("state", "urgency", "source", "category__parent", "owner_unit__tier")
    search_fields = ("code", "title", "address")
    date_hierarchy = "reported_at"
    list_select_related = ("category", "owner_unit", "lead_department")
    inlines = [AttachmentInline, RecordInline]
    show_full_result_count = False
    # The reporter's name and phone are shown masked; the full value only through the logged
    # reveal on the event page (incidents.privacy.contact_reveal).
    exclude = ("reporter_name", "reporter_phone")
    readonly_fields = ("reporter_contact",)

    @admin.display(description=_("reporter contact"))
    def reporter_contact(self, obj: Event) -> str:
        viewer = getattr(obj, "admin_viewer", None)
        if viewer is None:
            return "—"
        contact = contact_for(viewer, obj)
        shown = " ".join(filter(None, [contact.name, contact.phone])) or "—"
        if contact.masked and contact.can_reveal:
            reveal = reverse("event-detail", args=[obj.pk])
            return format_html('{} · <a href="{}">{}</a>', shown, reveal, gettext("show in full (logged)"))
        return shown


@admin.register(EventRecord)
class EventRecordAdmin(ReadOnlyAdmin):
    list_display = ("event", "seq", "action", "actor", "actor_role", "from_state", "to_state", "created_at")
    list_filter = ("action", "actor_role")
    search_fields = ("event__code", "reason")
    list_select_related = ("event", "actor")
    show_full_result_count = False
    exclude = ("data",)
    readonly_fields = ("shown_data",)

    @admin.display(description=_("data"))
    def shown_data(self, obj: EventRecord) -> str:
        # Another event's code only for those who may see it (selectors.history_for_user).
        viewer = getattr(obj, "admin_viewer", None)
        data = history_for_user(viewer, [obj])[0].shown_data if viewer is not None else {}
        return json.dumps(data, ensure_ascii=False, sort_keys=True)


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
        count = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        self.message_user(request, _("%(n)d keys revoked.") % {"n": count})

    def has_delete_permission(self, request, obj=None):
        return False
