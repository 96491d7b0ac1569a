# Merges the branches of this round (each added its migration beside the others).

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0003_integrator_role'),
        ('accounts', '0003_orgunit_boundary_may_be_multipolygon'),
        ('accounts', '0003_standard_address'),
    ]

    operations = [
    ]
