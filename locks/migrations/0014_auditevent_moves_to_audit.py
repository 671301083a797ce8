from django.db import migrations


class Migration(migrations.Migration):
    """The audit trail moves to its own app (audit.AuditEvent): only Django's record of the model goes, the table
    locks_auditevent and its rows stay, and audit/migrations/0001 takes them over."""

    dependencies = [
        ("locks", "0013_one_organisation_per_device"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[migrations.DeleteModel(name="AuditEvent")]),
    ]
