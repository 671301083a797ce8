from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("tenants", "0007_organisation_idle_timeouts")]

    operations = [
        # Organisations from before the second factor existed keep signing in as they did (False), so an upgrade locks
        # no owner out; those created from now on require it (the default becomes True, in the database too, so that
        # an insert made with an older migration's state, which knows no such column, still works).
        migrations.AddField(
            model_name="organisation",
            name="require_second_factor",
            field=models.BooleanField(
                default=False, help_text="Owners and managers must sign in with a second factor."
            ),
        ),
        migrations.AlterField(
            model_name="organisation",
            name="require_second_factor",
            field=models.BooleanField(
                default=True, db_default=True, help_text="Owners and managers must sign in with a second factor."
            ),
        ),
    ]
