"""Promotion cases and their packets now live in promotions (state only: no table or row
changes)."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('calibration', '0003_teams_and_engineers_move_to_people'),
        ('promotions', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(
                    model_name='promotioncase',
                    name='committee',
                ),
                migrations.RemoveField(
                    model_name='promotioncase',
                    name='cycle',
                ),
                migrations.RemoveField(
                    model_name='promotioncase',
                    name='decided_by',
                ),
                migrations.RemoveField(
                    model_name='promotioncase',
                    name='engineer',
                ),
                migrations.RemoveField(
                    model_name='promotioncase',
                    name='nominated_by',
                ),
                migrations.RemoveField(
                    model_name='promotionpacket',
                    name='case',
                ),
                migrations.RemoveField(
                    model_name='readinessaxis',
                    name='case',
                ),
                migrations.RemoveField(
                    model_name='readinessaxis',
                    name='evidence',
                ),
                migrations.DeleteModel(
                    name='ExportJob',
                ),
                migrations.DeleteModel(
                    name='PromotionPacket',
                ),
                migrations.DeleteModel(
                    name='PromotionCase',
                ),
                migrations.DeleteModel(
                    name='ReadinessAxis',
                ),
            ],
            database_operations=[],
        ),
    ]
