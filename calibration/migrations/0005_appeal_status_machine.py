"""The status is declared as a state machine (transitions on the model)."""

import django_fsm
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('calibration', '0004_promotions_move_to_their_own_app'),
    ]

    operations = [
        migrations.AlterField(
            model_name='appeal',
            name='status',
            field=django_fsm.FSMField(choices=[('open', 'Open'), ('upheld', 'Upheld (rating kept)'), ('changed', 'Changed')], default='open', max_length=20),
        ),
    ]
