# The periodic jobs' look-ups served by partial indexes on their own conditions (issue 15).

import django.db.models.lookups
from django.conf import settings
from django.db import migrations, models

# The `code_needs_work` index's expression, as Django writes it for that index (`manage.py sqlmigrate locks 0019`).
CODE_NEEDS_WORK_FLAG_SQL = (
    "CASE WHEN (\"status\" IN ('requested', 'sending', 'removing', 'unknown') "
    "OR (\"desired\" = 'removed' AND NOT (\"status\" = 'removed')) "
    "OR (\"desired\" = 'frozen' AND \"status\" = 'set') OR (\"desired\" = 'active' AND \"status\" = 'frozen') "
    'OR "needs_modify") THEN 1 ELSE NULL END'
)


def add_flag_statistics(apps: object, schema_editor: object) -> None:
    """Statistics on the sweeper's expression (PostgreSQL 14+): a partial index keeps none of its own, and without
    them PostgreSQL takes 1 in 200 codes to need work and plans a parallel scan for what is a handful of rows."""
    if schema_editor.connection.vendor == "postgresql":  # type: ignore[attr-defined]
        schema_editor.execute(  # type: ignore[attr-defined]
            f"CREATE STATISTICS IF NOT EXISTS code_needs_work_flag ON (({CODE_NEEDS_WORK_FLAG_SQL})) "
            "FROM locks_accesscode"
        )


def drop_flag_statistics(apps: object, schema_editor: object) -> None:
    if schema_editor.connection.vendor == "postgresql":  # type: ignore[attr-defined]
        schema_editor.execute("DROP STATISTICS IF EXISTS code_needs_work_flag")  # type: ignore[attr-defined]


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
                models.Case(
                    models.When(
                        models.Q(
                            ("status__in", ["requested", "sending", "removing", "unknown"]),
                            models.Q(("desired", "removed"), models.Q(("status", "removed"), _negated=True)),
                            models.Q(("desired", "frozen"), ("status", "set")),
                            models.Q(("desired", "active"), ("status", "frozen")),
                            ("needs_modify", True),
                            _connector="OR",
                        ),
                        then=models.Value(1),
                    )
                ),
                models.F("next_attempt_at"),
                condition=models.Q(
                    django.db.models.lookups.Exact(
                        models.Case(
                            models.When(
                                models.Q(
                                    ("status__in", ["requested", "sending", "removing", "unknown"]),
                                    models.Q(("desired", "removed"), models.Q(("status", "removed"), _negated=True)),
                                    models.Q(("desired", "frozen"), ("status", "set")),
                                    models.Q(("desired", "active"), ("status", "frozen")),
                                    ("needs_modify", True),
                                    _connector="OR",
                                ),
                                then=models.Value(1),
                            )
                        ),
                        1,
                    )
                ),
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
        migrations.RunPython(add_flag_statistics, drop_flag_statistics),
    ]
