"""Point at Team and Engineer in their new app (state only: the columns do not change)."""


import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('calibration', '0002_promotion_cases_and_packets'),
        ('people', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='calibrationsession',
                    name='scope_teams',
                    field=models.ManyToManyField(blank=True, related_name='+', to='people.team'),
                ),
                migrations.AlterField(
                    model_name='promotioncase',
                    name='engineer',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='promotion_cases', to='people.engineer'),
                ),
            ],
            database_operations=[],
        ),
    ]
