from datetime import timedelta

from django.db import migrations, models
from django.db.models import Count


def count_days_of_monthly_rows(apps, schema_editor):
    """Monthly rows summed before this field existed: their days_present is the number of daily rows
    they summed (a key with all figures zero on some day still counts that day)."""
    daily = apps.get_model("dispatch", "DailyRollup")
    monthly = apps.get_model("dispatch", "MonthlyRollup")
    for month in monthly.objects.values_list("month", flat=True).distinct():
        following = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
        counts = daily.objects.filter(day__gte=month, day__lt=following).values("area_path", "kind", "key")
        present = {(c["area_path"], c["kind"], c["key"]): c["n"] for c in counts.annotate(n=Count("id"))}
        rows = list(monthly.objects.filter(month=month))
        for row in rows:
            row.days_present = present.get((row.area_path, row.kind, row.key), 0)
        monthly.objects.bulk_update(rows, ["days_present"], batch_size=2000)


class Migration(migrations.Migration):
    dependencies = [
        ("dispatch", "0010_merge_rollups_weights_thresholds"),
    ]

    operations = [
        migrations.AddField(
            model_name="dailyrollup",
            name="days_present",
            field=models.IntegerField(default=1, verbose_name="days present"),
        ),
        migrations.AddField(
            model_name="monthlyrollup",
            name="days_present",
            field=models.IntegerField(default=1, verbose_name="days present"),
        ),
        migrations.RunPython(count_days_of_monthly_rows, migrations.RunPython.noop),
    ]
