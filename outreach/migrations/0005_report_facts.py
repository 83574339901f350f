"""Report roll-ups: sent emails and stage-log moves with what the reports need (outreach.reports.facts)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("outreach", "0004_inbound_fewer_indexes"),
        ("prospects", "0004_stagechange_acquired_idx"),
    ]

    operations = [
        migrations.CreateModel(
            name="ReportFactsState",
            fields=[
                ("name", models.CharField(max_length=16, primary_key=True, serialize=False)),
                ("built_upto", models.DateTimeField()),
                ("refreshed_at", models.DateTimeField()),
            ],
        ),
        migrations.CreateModel(
            name="SentFact",
            fields=[
                (
                    "message",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="outreach.outboundmessage",
                    ),
                ),
                ("prospect_id", models.BigIntegerField()),
                ("sent_at", models.DateTimeField()),
                ("sequence_id", models.BigIntegerField(null=True)),
                ("template_id", models.BigIntegerField(null=True)),
                ("template_version_id", models.BigIntegerField(null=True)),
                ("step_position", models.IntegerField(null=True)),
                ("mailbox_id", models.BigIntegerField()),
                ("prev_any", models.DateTimeField(null=True)),
                ("prev_sequence", models.DateTimeField(null=True)),
                ("prev_template", models.DateTimeField(null=True)),
                ("prev_version", models.DateTimeField(null=True)),
                ("prev_step", models.DateTimeField(null=True)),
                ("prev_mailbox", models.DateTimeField(null=True)),
            ],
            options={
                "indexes": [
                    models.Index(fields=["sent_at"], name="sentfact_sent_at_idx"),
                    models.Index(fields=["prospect_id"], name="sentfact_prospect_idx"),
                ],
            },
        ),
        migrations.CreateModel(
            name="StageFact",
            fields=[
                (
                    "change",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="prospects.stagechange",
                    ),
                ),
                ("prospect_id", models.BigIntegerField()),
                ("to_stage", models.CharField(max_length=20)),
                ("created_at", models.DateTimeField()),
                ("prev_same_at", models.DateTimeField(null=True)),
                ("left_at", models.DateTimeField(null=True)),
                ("reached", models.BooleanField(default=False)),
            ],
            options={
                "indexes": [
                    models.Index(fields=["created_at"], name="stagefact_created_at_idx"),
                    models.Index(fields=["prospect_id"], name="stagefact_prospect_idx"),
                ],
            },
        ),
    ]
