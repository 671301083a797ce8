from django.db import migrations, models


class Migration(migrations.Migration):
    """A code's password id in the cloud loses its vendor's name (issue 12 item 2: models carry no Tuya names):
    `tuya_password_id` becomes `cloud_password_id`, beside `cloud_marker` and `LockUser.cloud_user_id`. The column
    is renamed, so its values stay; the unique constraint keeps its name and is made again on the new column (its
    fields and condition name the field)."""

    dependencies = [
        ("locks", "0015_lock_user_schedule_weekdays"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="accesscode",
            name="one_code_per_cloud_password",
        ),
        migrations.RenameField(
            model_name="accesscode",
            old_name="tuya_password_id",
            new_name="cloud_password_id",
        ),
        migrations.AddConstraint(
            model_name="accesscode",
            constraint=models.UniqueConstraint(
                condition=models.Q(("cloud_password_id__isnull", False)),
                fields=("lock", "cloud_password_id"),
                name="one_code_per_cloud_password",
            ),
        ),
    ]
