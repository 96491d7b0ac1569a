"""Operators now hold verify_event on their units (someone other than the fixer verifies)."""

from django.db import migrations


def grant_verify_to_operators(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    Membership = apps.get_model("accounts", "Membership")
    Grant = apps.get_model("accounts", "OrgUnitUserObjectPermission")
    permission = Permission.objects.filter(codename="verify_event", content_type__app_label="accounts").first()
    if permission is None:  # a fresh database: permissions are created after migrating, with no users yet
        return
    have = set(Grant.objects.filter(permission=permission).values_list("user_id", "content_object_id"))
    wanted = set(
        Membership.objects.filter(role="operator", org_unit__isnull=False, department__isnull=True).values_list(
            "user_id", "org_unit_id"
        )
    )
    Grant.objects.bulk_create(
        Grant(user_id=user_id, permission=permission, content_object_id=unit_id) for user_id, unit_id in wanted - have
    )


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial"), ("auth", "0012_alter_user_first_name_max_length")]

    operations = [migrations.RunPython(grant_verify_to_operators, migrations.RunPython.noop)]
