"""Drop InboundMessage's two single-column foreign-key indexes that composite indexes already cover.

``mailbox_id`` is the first column of inbound_dedupe_unique (mailbox, dedupe_key) and
``prospect_id`` the first of inbound_prospect_idx (prospect, received_at): every query by
mailbox or prospect uses those, and each reply sync INSERT maintained two indexes for nothing.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("outreach", "0003_report_indexes"),
        ("prospects", "0003_link_monitoring"),
    ]

    operations = [
        migrations.AlterField(
            model_name="inboundmessage",
            name="mailbox",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="inbound",
                to="outreach.mailbox",
            ),
        ),
        migrations.AlterField(
            model_name="inboundmessage",
            name="prospect",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="inbound_messages",
                to="prospects.prospect",
            ),
        ),
    ]
