"""Promotion cases, readiness axes, packets and export jobs move here from calibration: state
only, the tables (calibration_promotioncase, ...) and every row stay where they are."""

import django.db.models.deletion
import django_fsm
import uuid
from django.conf import settings
from django.db import migrations, models


MODELS = ("promotioncase", "readinessaxis", "promotionpacket", "exportjob")


def _move(apps, from_label: str, to_label: str) -> None:
    # Keep admin history and object permissions pointing at the moved models.
    content_type = apps.get_model("contenttypes", "ContentType")
    content_type.objects.filter(app_label=from_label, model__in=MODELS).update(app_label=to_label)


def _rename_content_types(apps, schema_editor) -> None:
    _move(apps, "calibration", "promotions")


def _restore_content_types(apps, schema_editor) -> None:
    _move(apps, "promotions", "calibration")

class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('calibration', '0003_teams_and_engineers_move_to_people'),
        ('contenttypes', '0002_remove_content_type_name'),
        ('people', '0001_initial'),
        ('reviews', '0007_teams_and_engineers_move_to_people'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='PromotionCase',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('current_level', models.CharField(max_length=20)),
                        ('target_level', models.CharField(max_length=20)),
                        ('status', django_fsm.FSMField(choices=[('draft', 'Draft'), ('submitted', 'Submitted to the committee'), ('decided', 'Decided')], default='draft', max_length=50)),
                        ('summary', models.TextField(blank=True, help_text='Markdown; stored sanitised beside it.')),
                        ('summary_html', models.TextField(blank=True, editable=False)),
                        ('outcome', models.CharField(blank=True, choices=[('promoted', 'Promoted'), ('not_yet', 'Not yet')], max_length=20)),
                        ('feedback', models.TextField(blank=True, help_text='Written feedback to the engineer.')),
                        ('shared_with_engineer', models.BooleanField(default=False)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('submitted_at', models.DateTimeField(blank=True, null=True)),
                        ('decided_at', models.DateTimeField(blank=True, null=True)),
                        ('committee', models.ManyToManyField(blank=True, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('cycle', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='promotion_cases', to='reviews.reviewcycle')),
                        ('decided_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('engineer', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='promotion_cases', to='people.engineer')),
                        ('nominated_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'calibration_promotioncase',
                        'ordering': ['-created_at'],
                    },
                ),
                migrations.CreateModel(
                    name='PromotionPacket',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('content_hash', models.CharField(help_text="SHA-256 of the packet's HTML.", max_length=64)),
                        ('sha256', models.CharField(help_text='SHA-256 of the PDF file.', max_length=64)),
                        ('path', models.CharField(max_length=300)),
                        ('pages', models.PositiveIntegerField()),
                        ('size', models.PositiveIntegerField()),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('case', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='packets', to='promotions.promotioncase')),
                    ],
                    options={
                        'db_table': 'calibration_promotionpacket',
                        'ordering': ['case', '-created_at'],
                    },
                ),
                migrations.CreateModel(
                    name='ExportJob',
                    fields=[
                        ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                        ('status', models.CharField(choices=[('queued', 'Queued'), ('rendering', 'Rendering'), ('done', 'Done'), ('failed', 'Failed')], default='queued', max_length=20)),
                        ('message', models.TextField(blank=True)),
                        ('total', models.PositiveIntegerField(default=1)),
                        ('done', models.PositiveIntegerField(default=0)),
                        ('archive', models.CharField(blank=True, max_length=300)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                        ('cycle', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='reviews.reviewcycle')),
                        ('requested_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('session', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='calibration.calibrationsession')),
                        ('case', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='jobs', to='promotions.promotioncase')),
                        ('packet', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='promotions.promotionpacket')),
                    ],
                    options={
                        'db_table': 'calibration_exportjob',
                        'ordering': ['-created_at'],
                    },
                ),
                migrations.CreateModel(
                    name='ReadinessAxis',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('axis', models.CharField(choices=[('scope', 'Scope'), ('complexity', 'Complexity'), ('consistency', 'Consistency')], max_length=20)),
                        ('rating', models.PositiveSmallIntegerField(blank=True, null=True)),
                        ('narrative', models.TextField(blank=True, help_text='Markdown (a small safe subset).')),
                        ('narrative_html', models.TextField(blank=True, editable=False)),
                        ('case', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='axes', to='promotions.promotioncase')),
                        ('evidence', models.ManyToManyField(blank=True, related_name='readiness_axes', to='reviews.evidence')),
                    ],
                    options={
                        'db_table': 'calibration_readinessaxis',
                        'ordering': ['case', 'pk'],
                    },
                ),
                migrations.AddConstraint(
                    model_name='promotioncase',
                    constraint=models.UniqueConstraint(fields=('engineer', 'cycle'), name='one_promotion_case_per_cycle'),
                ),
                migrations.AddConstraint(
                    model_name='promotionpacket',
                    constraint=models.UniqueConstraint(fields=('case', 'content_hash'), name='packet_once_per_content'),
                ),
                migrations.AddConstraint(
                    model_name='readinessaxis',
                    constraint=models.UniqueConstraint(fields=('case', 'axis'), name='axis_once_per_case'),
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(_rename_content_types, _restore_content_types),
    ]
