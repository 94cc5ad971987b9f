"""Team and Engineer move here from reviews: state only, the tables (reviews_team,
reviews_engineer) and every row stay where they are."""


import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def _move(apps, from_label: str, to_label: str) -> None:
    # Keep admin history and object permissions pointing at the moved models.
    content_type = apps.get_model("contenttypes", "ContentType")
    for model in ("team", "engineer"):
        content_type.objects.filter(app_label=from_label, model=model).update(app_label=to_label)


def _rename_content_types(apps, schema_editor) -> None:
    _move(apps, "reviews", "people")


def _restore_content_types(apps, schema_editor) -> None:
    _move(apps, "people", "reviews")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('reviews', '0006_engineer_hr_attribute'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='Team',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('slug', models.SlugField(max_length=80, unique=True)),
                        ('name', models.CharField(max_length=120)),
                    ],
                    options={
                        'db_table': 'reviews_team',
                        'ordering': ['name'],
                    },
                ),
                migrations.CreateModel(
                    name='Engineer',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('level_code', models.CharField(max_length=20)),
                        ('start_date', models.DateField()),
                        ('hr_attribute', models.CharField(blank=True, help_text='An HR-managed attribute (settings.LEVELSET_HR_ATTRIBUTE_LABEL names it) compared in calibration analytics like team and level. Visible to HR only.', max_length=80)),
                        ('manager', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='direct_reports', to=settings.AUTH_USER_MODEL)),
                        ('user', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='engineer', to=settings.AUTH_USER_MODEL)),
                        ('team', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='engineers', to='people.team')),
                    ],
                    options={
                        'db_table': 'reviews_engineer',
                        'ordering': ['team__name', 'user__last_name', 'user__first_name'],
                        'constraints': [models.CheckConstraint(condition=models.Q(('manager', models.F('user')), _negated=True), name='engineer_not_own_manager')],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(_rename_content_types, _restore_content_types),
    ]
