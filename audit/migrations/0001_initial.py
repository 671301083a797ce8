import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def move_content_type(apps, schema_editor):
    """Permissions granted on the audit trail follow it: its content type changes app instead of being replaced."""
    content_type = apps.get_model("contenttypes", "ContentType")
    if not content_type.objects.filter(app_label="audit", model="auditevent").exists():
        content_type.objects.filter(app_label="locks", model="auditevent").update(app_label="audit")


def move_content_type_back(apps, schema_editor):
    content_type = apps.get_model("contenttypes", "ContentType")
    if not content_type.objects.filter(app_label="locks", model="auditevent").exists():
        content_type.objects.filter(app_label="audit", model="auditevent").update(app_label="locks")


class Migration(migrations.Migration):
    """Takes over the audit trail's table from the locks app (locks/migrations/0014): the table, its name and its
    rows stay as they are; only Django's record of which app owns the model changes."""

    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("locks", "0014_auditevent_moves_to_audit"),
        ("tenants", "0002_stay_booking_token"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="AuditEvent",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("action", models.CharField(max_length=40)),
                        ("object_type", models.CharField(blank=True, max_length=40)),
                        ("object_id", models.CharField(blank=True, max_length=40)),
                        ("summary", models.CharField(blank=True, max_length=300)),
                        ("ip_address", models.GenericIPAddressField(blank=True, null=True)),
                        ("at", models.DateTimeField(auto_now_add=True, db_index=True)),
                        (
                            "actor",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "organisation",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="audit_events",
                                to="tenants.organisation",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "locks_auditevent",
                        "ordering": ["-at", "-id"],
                    },
                ),
            ],
        ),
        migrations.RunPython(move_content_type, move_content_type_back),
    ]
