# The rest of the periodic look-ups served by partial indexes on their own conditions (issue 15): reconciliation's
# codes that may be on the lock, stalled lock operations, photos to fetch again, remote unlocks to expire. The two
# full (status, time) indexes they replace served only those sweeps.

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("locks", "0021_event_place_indexes"),
        ("tenants", "0006_stay_times_and_languages"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="eventmedia",
            name="locks_event_status_53923a_idx",
        ),
        migrations.RemoveIndex(
            model_name="lockoperation",
            name="locks_locko_status_4de5c2_idx",
        ),
        migrations.AddIndex(
            model_name="accesscode",
            index=models.Index(
                condition=models.Q(("pin_purged_at__isnull", True)), fields=["lock"], name="code_may_be_on_lock"
            ),
        ),
        migrations.AddIndex(
            model_name="eventmedia",
            index=models.Index(condition=models.Q(("status", "pending")), fields=["updated_at"], name="media_pending"),
        ),
        migrations.AddIndex(
            model_name="lockoperation",
            index=models.Index(
                condition=models.Q(("status", "requested")), fields=["created_at"], name="operation_waiting"
            ),
        ),
        migrations.AddIndex(
            model_name="lockoperation",
            index=models.Index(
                condition=models.Q(("status", "running")), fields=["started_at"], name="operation_running"
            ),
        ),
        migrations.AddIndex(
            model_name="remoteunlockrequest",
            index=models.Index(
                condition=models.Q(("status__in", ["pending", "approving"])),
                fields=["requested_at"],
                name="remote_unlock_open",
            ),
        ),
    ]
