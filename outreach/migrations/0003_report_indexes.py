"""Indexes for the reports: emails sent in a period, and a prospect's latest sent email."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("outreach", "0002_report_subscription")]

    operations = [
        migrations.AddIndex(
            model_name="outboundmessage",
            index=models.Index(
                condition=models.Q(("status", "sent")), fields=["sent_at"], name="outbound_sent_at_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="outboundmessage",
            index=models.Index(
                condition=models.Q(("status", "sent")), fields=["prospect", "sent_at"],
                name="outbound_prospect_sent_idx",
            ),
        ),
    ]
