# The periodic jobs' look-ups served by partial indexes on their own conditions (issue 15).

from django.conf import settings
from django.db import migrations, models


def code_state_statistics(apps: object, schema_editor: object) -> None:
    """PostgreSQL assumes `desired` and `status` are independent and so guesses that a quarter of all codes need
    work (desired removed, status not removed); the sweeper's plan then reads the whole table. Statistics on the
    pair tell it that history is all removed-and-removed. SQLite has no such statistics."""
    connection = schema_editor.connection  # type: ignore[attr-defined]
    if connection.vendor == "postgresql":
        schema_editor.execute(  # type: ignore[attr-defined]
            "CREATE STATISTICS IF NOT EXISTS code_desired_status (mcv) ON desired, status FROM locks_accesscode"
        )


def drop_code_state_statistics(apps: object, schema_editor: object) -> None:
    if schema_editor.connection.vendor == "postgresql":  # type: ignore[attr-defined]
        schema_editor.execute("DROP STATISTICS IF EXISTS code_desired_status")  # type: ignore[attr-defined]


class Migration(migrations.Migration):
    dependencies = [
        ("locks", "0018_booking_alert_kinds"),
        ("tenants", "0006_stay_times_and_languages"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="accesscode",
            name="locks_acces_status_eadd53_idx",
        ),
        migrations.AddIndex(
            model_name="accesscode",
            index=models.Index(
                condition=models.Q(
                    ("status__in", ["requested", "sending", "removing", "unknown"]),
                    models.Q(("desired", "removed"), models.Q(("status", "removed"), _negated=True)),
                    models.Q(("desired", "frozen"), ("status", "set")),
                    models.Q(("desired", "active"), ("status", "frozen")),
                    ("needs_modify", True),
                    _connector="OR",
                ),
                fields=["next_attempt_at"],
                name="code_needs_work",
            ),
        ),
        migrations.AddIndex(
            model_name="accesscode",
            index=models.Index(condition=models.Q(("status", "set")), fields=["ends_at"], name="code_on_lock_ends"),
        ),
        migrations.AddIndex(
            model_name="accesscode",
            index=models.Index(
                condition=models.Q(("pin_purged_at__isnull", True), ("status__in", ["removed", "expired", "failed"])),
                fields=["ends_at"],
                name="code_pin_kept_ends",
            ),
        ),
        migrations.AddIndex(
            model_name="accesscode",
            index=models.Index(
                condition=models.Q(
                    models.Q(("status", "failed"), ("attempts__gte", 5), _connector="OR"),
                    models.Q(("status__in", ["removed", "expired"]), _negated=True),
                ),
                fields=["ends_at"],
                name="code_suspect_ends",
            ),
        ),
        migrations.AddIndex(
            model_name="alert",
            index=models.Index(condition=models.Q(("resolved_at__isnull", True)), fields=["kind"], name="alert_open"),
        ),
        migrations.AddIndex(
            model_name="unlockmethod",
            index=models.Index(condition=models.Q(("status", "enrolling")), fields=["id"], name="method_enrolling"),
        ),
        migrations.RunPython(code_state_statistics, drop_code_state_statistics),
    ]
