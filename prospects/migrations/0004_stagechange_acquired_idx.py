"""Reports: the moves into Link Acquired, by prospect (a partial index, a few percent of the stage log).

Raw SQL rather than a model index: the index serves outreach.reports alone (won prospects,
links acquired in a period) and is not part of the prospects app's model state.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("prospects", "0003_link_monitoring")]

    operations = [
        migrations.RunSQL(
            "CREATE INDEX IF NOT EXISTS stagechange_acquired_idx ON prospects_stagechange (prospect_id, created_at)"
            " WHERE to_stage = 'link_acquired'",
            "DROP INDEX IF EXISTS stagechange_acquired_idx",
        ),
    ]
