from django.db import migrations, models


def limit_those_with_properties(apps, schema_editor):
    # Until now the limit was "some properties chosen": keep every such limit. A desk whose properties were all
    # deleted already sees everything; nothing here can tell it apart from one never limited.
    Membership = apps.get_model("tenants", "Membership")
    with_properties = Membership.objects.filter(properties__isnull=False).values("pk")
    Membership.objects.filter(pk__in=with_properties).update(limited_to_properties=True)


class Migration(migrations.Migration):
    dependencies = [
        ("tenants", "0002_stay_booking_token"),
    ]

    operations = [
        migrations.AddField(
            model_name="membership",
            name="limited_to_properties",
            field=models.BooleanField(
                default=False,
                help_text="A front desk sees only the properties chosen below (none, when none are chosen).",
            ),
        ),
        migrations.RunPython(limit_those_with_properties, migrations.RunPython.noop),
    ]
