"""An index for each filter of the audit page and API, each ending in `seq`, so a page of the
newest matching events is read from one index in order however long the log grows: by actor,
action, area (an index on the action code's first part), target type, target, and the moment
written. The index on `action` alone and the one on (target_type, target_id) are replaced by
the ones ending in `seq`."""

import audit.models
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0005_chain_checks_in_slices'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='auditevent',
            name='audit_audit_target__59bbff_idx',
        ),
        migrations.AlterField(
            model_name='auditevent',
            name='action',
            field=models.CharField(max_length=100),
        ),
        migrations.AddIndex(
            model_name='auditevent',
            index=models.Index(fields=['actor_repr', 'seq'], name='audit_event_actor_seq'),
        ),
        migrations.AddIndex(
            model_name='auditevent',
            index=models.Index(fields=['action', 'seq'], name='audit_event_action_seq'),
        ),
        migrations.AddIndex(
            model_name='auditevent',
            index=models.Index(audit.models.ActionArea('action'), models.F('seq'), name='audit_event_area_seq'),
        ),
        migrations.AddIndex(
            model_name='auditevent',
            index=models.Index(fields=['target_type', 'seq'], name='audit_event_type_seq'),
        ),
        migrations.AddIndex(
            model_name='auditevent',
            index=models.Index(fields=['target_type', 'target_id', 'seq'], name='audit_event_target_seq'),
        ),
        migrations.AddIndex(
            model_name='auditevent',
            index=models.Index(fields=['created_at', 'seq'], name='audit_event_created_seq'),
        ),
    ]
