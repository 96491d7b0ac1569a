"""The five tiers of government, departments, people and their roles."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Q
from django.db.models.functions import Concat, Substr
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from accounts.geometry import validate_polygon


class Tier(models.IntegerChoices):
    """The five tiers, top to bottom; a lower number is a higher tier."""

    CITY = 1, _("city")
    DISTRICT = 2, _("district")
    STREET = 3, _("street / town")
    COMMUNITY = 4, _("community")
    GRID = 5, _("grid")


# Administrative-division-style code lengths per tier (grid = community + sequence).
CODE_LENGTHS: dict[int, tuple[int, ...]] = {
    Tier.CITY: (6,),
    Tier.DISTRICT: (6,),
    Tier.STREET: (9,),
    Tier.COMMUNITY: (12,),
    Tier.GRID: (14, 15, 16),
}


class User(AbstractUser):
    """A person who signs in: grid worker, operator, handler, supervisor or admin."""

    display_name = models.CharField(_("display name"), max_length=64, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.display_name or self.username


class OrgUnitQuerySet(models.QuerySet):
    def within(self, unit: OrgUnit, include_self: bool = True) -> OrgUnitQuerySet:
        """Everything inside `unit`: one indexed prefix query on the path."""
        qs = self.filter(path__startswith=unit.path)
        return qs if include_self else qs.exclude(pk=unit.pk)


class OrgUnit(models.Model):
    """A unit of one of the five tiers (市/区/街镇/社区/网格).

    `path` is a materialized path of codes ("310000/310101/310101001/"), so
    a whole jurisdiction is `path LIKE 'prefix%'` on an index instead of a
    recursive walk.
    """

    code = models.CharField(_("code"), max_length=16, unique=True)
    name = models.CharField(_("name"), max_length=64)
    tier = models.PositiveSmallIntegerField(_("tier"), choices=Tier.choices)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    path = models.CharField(_("path"), max_length=255, editable=False, db_index=False)
    boundary = models.JSONField(
        _("boundary"),
        null=True,
        blank=True,
        help_text=_("GeoJSON Polygon or MultiPolygon in WGS84 longitude/latitude; required for grids."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    objects = OrgUnitQuerySet.as_manager()

    class Meta:
        verbose_name = _("org unit")
        verbose_name_plural = _("org units")
        ordering = ["path"]
        indexes = [
            # Serves within(): LIKE 'prefix%' needs pattern ops under a
            # non-C collation on PostgreSQL; other backends ignore opclasses.
            models.Index(fields=["path"], name="orgunit_path_prefix", opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["tier", "path"], name="orgunit_tier_path"),
        ]
        permissions = [
            ("report_event", _("File events in this unit")),
            ("verify_event", _("Verify events on site in this unit")),
            ("operate_event", _("Triage, dispatch, escalate and close events in this unit")),
            ("supervise_event", _("Approve requests and urge events in this unit")),
            ("view_events", _("See the events of this unit")),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def save(self, *args, **kwargs) -> None:
        new_path = self.compute_path()
        old_path = self.path
        self.path = new_path
        with transaction.atomic():
            super().save(*args, **kwargs)
            if old_path and old_path != new_path:
                # Moving or renumbering a unit rewrites its whole subtree's paths in one UPDATE.
                OrgUnit.objects.filter(path__startswith=old_path).exclude(pk=self.pk).update(
                    path=Concat(models.Value(new_path), Substr("path", len(old_path) + 1))
                )
                # Events carry a copy of their grid's path for scoping: move them too.
                from django.apps import apps

                apps.get_model("incidents", "Event").objects.filter(area_path__startswith=old_path).update(
                    area_path=Concat(models.Value(new_path), Substr("area_path", len(old_path) + 1))
                )

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.tier and len(self.code or "") not in CODE_LENGTHS[self.tier]:
            lengths = " or ".join(str(n) for n in CODE_LENGTHS[self.tier])
            errors["code"] = _("A %(tier)s code has %(lengths)s digits.") % {
                "tier": Tier(self.tier).label,
                "lengths": lengths,
            }
        elif self.code and not self.code.isdigit():
            errors["code"] = _("Codes are digits only.")
        if self.tier == Tier.CITY:
            if self.parent_id:
                errors["parent"] = _("A city has no parent.")
        elif self.tier:
            if not self.parent_id:
                errors["parent"] = _("Every unit below the city has a parent.")
            elif self.parent.tier != self.tier - 1:
                errors["parent"] = _("The parent of a %(tier)s must be a %(parent)s.") % {
                    "tier": Tier(self.tier).label,
                    "parent": Tier(self.tier - 1).label,
                }
            elif self.pk and self.parent.path.startswith(self.path or "\0"):
                errors["parent"] = _("A unit cannot be moved inside itself.")
        if self.boundary is not None:
            try:
                validate_polygon(self.boundary)
            except ValueError as exc:
                errors["boundary"] = str(exc)
        elif self.tier == Tier.GRID:
            errors["boundary"] = _("A grid needs a boundary polygon.")
        if errors:
            raise ValidationError(errors)

    def compute_path(self) -> str:
        return f"{self.parent.path if self.parent_id else ''}{self.code}/"

    @property
    def depth_codes(self) -> list[str]:
        """Codes from the city down to this unit."""
        return [code for code in self.path.split("/") if code]

    def ancestors(self, include_self: bool = True) -> OrgUnitQuerySet:
        codes = self.depth_codes if include_self else self.depth_codes[:-1]
        return OrgUnit.objects.filter(code__in=codes).order_by("tier")

    def descendants(self, include_self: bool = False) -> OrgUnitQuerySet:
        return OrgUnit.objects.within(self, include_self=include_self)

    def contains(self, other: OrgUnit) -> bool:
        return other.path.startswith(self.path)


class DepartmentType(models.Model):
    """A kind of professional department: 城管, 环卫, 水务, 园林, 市政, 住建, 公安, 应急 …"""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=32, unique=True)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        verbose_name = _("department type")
        verbose_name_plural = _("department types")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Department(models.Model):
    """A professional department (专业部门) owned by one org unit, e.g. a district's 城管局."""

    code = models.SlugField(_("code"), max_length=48, unique=True)
    name = models.CharField(_("name"), max_length=64)
    type = models.ForeignKey(
        DepartmentType, verbose_name=_("type"), on_delete=models.PROTECT, related_name="departments"
    )
    org_unit = models.ForeignKey(
        OrgUnit, verbose_name=_("org unit"), on_delete=models.PROTECT, related_name="departments"
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["org_unit__path", "type__code"]
        constraints = [
            # Routing asks "the 环卫 department of this street": there must be at most one.
            models.UniqueConstraint(fields=["org_unit", "type"], name="department_one_per_type_per_unit"),
        ]
        permissions = [
            ("handle_event", _("Accept, return and handle events assigned to this department")),
            ("view_department_events", _("See the events assigned to this department")),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.org_unit_id and self.org_unit.tier == Tier.GRID:
            raise ValidationError({"org_unit": _("Departments belong to a city, district, street or community.")})


class Role(models.TextChoices):
    GRID_WORKER = "grid_worker", _("grid worker")
    OPERATOR = "operator", _("operator")
    HANDLER = "handler", _("department handler")
    SUPERVISOR = "supervisor", _("supervisor")
    ADMIN = "admin", _("administrator")
    # 接入方: a system that sends sensor readings (an IoT platform); it sees no events.
    INTEGRATOR = "integrator", _("integrator")


class Membership(models.Model):
    """A user's role at an org unit (and its subtree) or in a department.

    Memberships are the source of truth; the guardian object permissions they
    imply are kept in step by accounts.services.sync_user_permissions (membership_saved
    re-syncs the previous holder too when a membership changes hands).
    """

    user = models.ForeignKey(User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    org_unit = models.ForeignKey(
        OrgUnit, verbose_name=_("org unit"), null=True, blank=True, on_delete=models.PROTECT, related_name="memberships"
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="memberships",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(role="handler", department__isnull=False, org_unit__isnull=True)
                    | (~Q(role="handler") & Q(department__isnull=True, org_unit__isnull=False))
                ),
                name="membership_handler_in_department_others_in_unit",
                violation_error_message=_("A handler belongs to a department; every other role to an org unit."),
            ),
            models.UniqueConstraint(
                fields=["user", "role", "org_unit"], condition=Q(org_unit__isnull=False), name="membership_unique_unit"
            ),
            models.UniqueConstraint(
                fields=["user", "role", "department"],
                condition=Q(department__isnull=False),
                name="membership_unique_department",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.department or self.org_unit}"

    def clean(self) -> None:
        if self.role == Role.HANDLER:
            if not self.department_id:
                raise ValidationError({"department": _("A handler must belong to a department.")})
            if self.org_unit_id:
                raise ValidationError({"org_unit": _("A handler belongs to a department, not an org unit.")})
        else:
            if not self.org_unit_id:
                raise ValidationError({"org_unit": _("This role is held at an org unit.")})
            if self.department_id:
                raise ValidationError({"department": _("Only handlers belong to a department.")})
            if self.role == Role.GRID_WORKER and self.org_unit.tier < Tier.COMMUNITY:
                raise ValidationError({"org_unit": _("Grid workers serve a grid or a community.")})
            if self.role == Role.OPERATOR and self.org_unit.tier == Tier.GRID:
                raise ValidationError({"org_unit": _("Operators work at a community or above.")})


# Direct foreign-key permission tables (django-guardian): a lookup joins on an
# integer column instead of scanning the generic table by content type + text id.
class OrgUnitUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(OrgUnit, on_delete=models.CASCADE)

    class Meta(UserObjectPermissionBase.Meta):
        verbose_name = _("org unit user permission")


class OrgUnitGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(OrgUnit, on_delete=models.CASCADE)

    class Meta(GroupObjectPermissionBase.Meta):
        verbose_name = _("org unit group permission")


class DepartmentUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Department, on_delete=models.CASCADE)

    class Meta(UserObjectPermissionBase.Meta):
        verbose_name = _("department user permission")


class DepartmentGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Department, on_delete=models.CASCADE)

    class Meta(GroupObjectPermissionBase.Meta):
        verbose_name = _("department group permission")


class StandardAddress(models.Model):
    """One entry of the city's standard-address list (标准地址 / 门牌地址): a door-plate address and
    its point (WGS-84), with the grid that covers it, so a search is scoped like everything else.

    Filled by `manage.py import_addresses` (accounts.addresses); read by the address search.
    """

    address = models.CharField(_("address"), max_length=200, unique=True)
    latitude = models.FloatField(_("latitude"))
    longitude = models.FloatField(_("longitude"))
    grid = models.ForeignKey(
        OrgUnit, verbose_name=_("grid"), on_delete=models.CASCADE, related_name="standard_addresses"
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("standard address")
        verbose_name_plural = _("standard addresses")
        ordering = ["address"]

    def __str__(self) -> str:
        return self.address
