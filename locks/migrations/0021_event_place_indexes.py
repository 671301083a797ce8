"""The unit's and the property's event timelines as index walks (after 0020 has placed every event)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("locks", "0020_event_place"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="lockevent",
            index=models.Index(fields=["unit", "-occurred_at", "-id"], name="event_unit_timeline"),
        ),
        migrations.AddIndex(
            model_name="lockevent",
            index=models.Index(fields=["property", "-occurred_at", "-id"], name="event_property_timeline"),
        ),
    ]
