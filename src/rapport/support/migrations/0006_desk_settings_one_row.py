"""The help desk's settings are one row: extra rows (two first uses at once, before this) are
dropped, keeping the first, and a unique column keeps it so."""

from django.db import migrations, models


def keep_the_first(apps, schema_editor):
    DeskSettings = apps.get_model("support", "DeskSettings")
    first = DeskSettings.objects.order_by("id").first()
    if first is not None:
        DeskSettings.objects.exclude(id=first.id).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("support", "0005_ticket_contact_cascade"),
    ]

    operations = [
        migrations.RunPython(keep_the_first, migrations.RunPython.noop),
        migrations.AddField(
            model_name="desksettings",
            name="one",
            field=models.BooleanField(default=True, editable=False, unique=True),
        ),
    ]
