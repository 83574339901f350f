"""Report roll-ups: the id watermark (rows written with a date in the past are new by their id)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("outreach", "0005_report_facts")]

    operations = [
        migrations.AddField(
            model_name="reportfactsstate",
            name="built_upto_id",
            field=models.BigIntegerField(default=0),
        ),
    ]
