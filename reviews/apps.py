from django.apps import AppConfig


class ReviewsConfig(AppConfig):
    name = "reviews"

    def ready(self) -> None:
        from django.contrib.auth import get_user_model

        from reviews import checks, readcache
        from reviews.models import DimensionRating, Engineer, Evidence, Review, ReviewCycle, Team

        checks.register()
        # What the cached review reads show; see reviews/readcache.py.
        readcache.connect(
            [Review, DimensionRating, Evidence, Engineer, Team, ReviewCycle, get_user_model()]
        )
