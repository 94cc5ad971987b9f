from django.urls import path

from calibration import appeal_views, history_views, views

app_name = "calibration"
urlpatterns = [
    path("", views.session_list, name="list"),
    path("new/", views.session_new, name="new"),
    path("appeals/", appeal_views.appeal_list, name="appeals"),
    path("appeals/<int:pk>/", appeal_views.appeal_detail, name="appeal"),
    path("cycles/<int:pk>/health/", views.health, name="health"),
    path("reviews/<int:pk>/history/", history_views.review_history, name="review-history"),
    path("reviews/<int:pk>/pulse/", history_views.pulse, name="pulse"),
    path("<int:pk>/", views.session_detail, name="detail"),
    path("<int:pk>/adjust/", views.adjustment_make, name="adjust"),
    path("<int:pk>/adjust/<int:review_pk>/", views.adjustment_form, name="adjust-form"),
    path("<int:pk>/prereads/", views.preread_add, name="preread"),
    path("<int:pk>/add-reviews/", views.reviews_add, name="add-reviews"),
    *(
        path(f"<int:pk>/{action}/", views.session_transition, {"action": action}, name=action)
        for action in views.TRANSITIONS
    ),
]
