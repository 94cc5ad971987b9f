"""Team and Engineer now live in people (state only: no table or row changes)."""


import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('calibration', '0003_teams_and_engineers_move_to_people'),
        ('people', '0001_initial'),
        ('reviews', '0006_engineer_hr_attribute'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='review',
                    name='engineer',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='reviews', to='people.engineer'),
                ),
                migrations.AlterField(
                    model_name='teammetrics',
                    name='team',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='metrics', to='people.team'),
                ),
                migrations.AlterField(
                    model_name='review',
                    name='team',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='reviews', to='people.team'),
                ),
                migrations.DeleteModel(
                    name='Engineer',
                ),
                migrations.DeleteModel(
                    name='Team',
                ),
            ],
            database_operations=[],
        ),
    ]
