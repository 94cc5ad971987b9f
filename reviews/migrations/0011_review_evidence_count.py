from django.db import migrations, models
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce


def count_evidence(apps, schema_editor):
    """Every review's active (not withdrawn) evidence, counted once."""
    Review = apps.get_model("reviews", "Review")
    Evidence = apps.get_model("reviews", "Evidence")
    active = (
        Evidence.objects.filter(review=OuterRef("pk"), withdrawn_at__isnull=True)
        .order_by()
        .values("review")
        .annotate(n=Count("pk"))
        .values("n")
    )
    Review.objects.update(evidence_count=Coalesce(Subquery(active), 0))


class Migration(migrations.Migration):

    dependencies = [
        ("reviews", "0010_review_handovers"),
    ]

    operations = [
        migrations.AddField(
            model_name="review",
            name="evidence_count",
            field=models.PositiveIntegerField(default=0, editable=False),
        ),
        migrations.RunPython(count_evidence, migrations.RunPython.noop),
    ]
