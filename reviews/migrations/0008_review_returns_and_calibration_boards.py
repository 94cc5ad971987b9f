"""A returned self-review keeps the manager's reason; a review on an open calibration board
is in its own state ("on a calibration board", naming the board), so nobody can finalise it
before the board closes. Reviews already on an open or locked board move to that state."""

import django_fsm
from django.conf import settings
from django.db import migrations, models


def _boards(apps):
    session_review = apps.get_model("calibration", "SessionReview")
    return session_review.objects.filter(active=True).select_related("session")


def _onto_boards(apps, schema_editor) -> None:
    review = apps.get_model("reviews", "Review")
    for entry in _boards(apps):
        label = f"calibration session '{entry.session.name}' (#{entry.session_id})"
        review.objects.filter(pk=entry.review_id, state="manager_submitted").update(
            state="in_calibration", calibration_board=label[:200]
        )


def _off_boards(apps, schema_editor) -> None:
    review = apps.get_model("reviews", "Review")
    review.objects.filter(state="in_calibration").update(
        state="manager_submitted", calibration_board=""
    )


class Migration(migrations.Migration):

    dependencies = [
        ('calibration', '0005_appeal_status_machine'),
        ('people', '0001_initial'),
        ('reviews', '0007_teams_and_engineers_move_to_people'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='review',
            name='calibration_board',
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.AddField(
            model_name='review',
            name='returned_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='review',
            name='returned_reason',
            field=models.TextField(blank=True),
        ),
        migrations.AlterField(
            model_name='review',
            name='state',
            field=django_fsm.FSMField(choices=[('draft', 'Self-review in progress'), ('self_submitted', 'Self-review submitted'), ('manager_submitted', 'Manager review submitted'), ('in_calibration', 'On a calibration board'), ('calibrated', 'Calibrated'), ('finalized', 'Finalized'), ('acknowledged', 'Acknowledged')], default='draft', max_length=50),
        ),
        migrations.AlterField(
            model_name='reviewcycle',
            name='phase',
            field=django_fsm.FSMField(choices=[('planned', 'Planned'), ('self_review', 'Self-review'), ('manager_review', 'Manager review'), ('calibration', 'Calibration'), ('finalisation', 'Finalisation'), ('closed', 'Closed')], default='planned', max_length=20),
        ),
        migrations.RunPython(_onto_boards, _off_boards),
        migrations.AddConstraint(
            model_name='review',
            constraint=models.CheckConstraint(condition=models.Q(('state', 'in_calibration'), ('calibration_board', ''), _connector='OR'), name='review_board_only_in_calibration'),
        ),
    ]
