# Merges the branches of this round (each added its migration beside the others).

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('dispatch', '0009_evaluation_rollups'),
        ('dispatch', '0009_indicatorweight_composite_score'),
        ('dispatch', '0009_model_dispatch_thresholds'),
    ]

    operations = [
    ]
