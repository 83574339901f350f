from django.db import migrations, models


class Migration(migrations.Migration):
    """New mailboxes do not assume the server files sent mail (a wrong guess could send twice)."""

    dependencies = [("outreach", "0006_report_facts_upto_id")]

    operations = [
        migrations.AlterField(
            model_name="mailbox",
            name="server_saves_sent",
            field=models.BooleanField(default=False),
        ),
    ]
