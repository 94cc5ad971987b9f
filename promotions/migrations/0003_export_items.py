"""A batch export lists its cases, each marked once its packet is rendered."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('promotions', '0002_export_status_machine'),
    ]

    operations = [
        migrations.CreateModel(
            name='ExportItem',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('rendered_at', models.DateTimeField(blank=True, null=True)),
                ('case', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='promotions.promotioncase')),
                ('job', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='items', to='promotions.exportjob')),
                ('packet', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='promotions.promotionpacket')),
            ],
            options={
                'ordering': ['job', 'pk'],
                'constraints': [models.UniqueConstraint(fields=('job', 'case'), name='export_item_once_per_case')],
            },
        ),
    ]
