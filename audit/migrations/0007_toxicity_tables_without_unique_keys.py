# Written by hand: LinkToxicity is recreated (derived data, rebuilt by the next scoring) because
# its primary key changes from backlink_id to an id; see audit.models.LinkToxicity for why.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0006_toxicity_review_disavow'),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='refdomaintoxicity',
            name='domaintox_site_domain_unique',
        ),
        migrations.AlterField(
            model_name='refdomaintoxicity',
            name='site',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='audit.site'),
        ),
        migrations.DeleteModel(name='LinkToxicity'),
        migrations.CreateModel(
            name='LinkToxicity',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('backlink_id', models.BigIntegerField(help_text='audit_backlink.id')),
                ('score', models.SmallIntegerField()),
                ('markers', models.IntegerField(help_text='Bitmask of audit.toxicity.MARKERS that fired.')),
                ('site', models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='audit.site')),
            ],
            options={
                'ordering': ['site_id', '-score', 'backlink_id'],
                'indexes': [models.Index(fields=['site', '-score', 'backlink_id'], name='linktox_site_score')],
                'constraints': [models.CheckConstraint(condition=models.Q(('score__gte', 0), ('score__lte', 100)), name='linktox_score_0_100')],
            },
        ),
    ]
