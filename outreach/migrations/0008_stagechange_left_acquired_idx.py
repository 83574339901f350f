"""Reports: the moves out of Link Acquired, by time (a partial index, a few percent of the stage log).

The acquisition report counts the prospects moved out of Link Acquired in a period; without this
index that was a scan of the whole stage log (~160 ms on a million moves, in three processes).
Raw SQL on the prospects app's table, like prospects 0004's stagechange_acquired_idx: the index
serves outreach.reports alone and is not part of the prospects app's model state.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("outreach", "0007_mailbox_server_saves_sent_off"),
        ("prospects", "0004_stagechange_acquired_idx"),
    ]

    operations = [
        migrations.RunSQL(
            "CREATE INDEX IF NOT EXISTS stagechange_left_acquired_idx"
            " ON prospects_stagechange (created_at, prospect_id) WHERE from_stage = 'link_acquired'",
            "DROP INDEX IF EXISTS stagechange_left_acquired_idx",
        ),
    ]
