# Merges the branches of this round (each added its migration beside the others).

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('incidents', '0013_attachment_thumbnail'),
        ('incidents', '0013_event_open_duplicate_box_index'),
    ]

    operations = [
    ]
