from django.urls import path

from reviews import cycle_views, views

app_name = "reviews"
urlpatterns = [
    path("", views.review_list, name="list"),
    path("team/", views.team_page, name="team"),
    path("cycles/", cycle_views.cycle_list, name="cycles"),
    path("cycles/<int:pk>/", cycle_views.cycle_detail, name="cycle"),
    path("cycles/<int:pk>/metrics/", cycle_views.team_metrics_upload, name="metrics-upload"),
    path("cycles/<int:pk>/open/", cycle_views.cycle_open, name="cycle-open"),
    path("cycles/<int:pk>/advance/", cycle_views.cycle_advance, name="cycle-advance"),
    path("cycles/<int:pk>/reopen/", cycle_views.cycle_reopen, name="cycle-reopen"),
    path("cycles/<int:pk>/engineers/", cycle_views.cycle_add_engineer, name="cycle-add-engineer"),
    path("cycles/<int:pk>/finalise/", cycle_views.cycle_finalize_ready, name="cycle-finalise"),
    path("<int:pk>/finalise/", cycle_views.review_finalize, name="finalise"),
    path("<int:pk>/", views.review_detail, name="detail"),
    path("<int:pk>/evidence/add/", views.evidence_add, name="evidence-add"),
    path("<int:pk>/evidence/paste/", views.evidence_paste, name="evidence-paste"),
    path("<int:pk>/evidence/<int:evidence_pk>/", views.evidence_edit, name="evidence-edit"),
    path(
        "<int:pk>/evidence/<int:evidence_pk>/withdraw/",
        views.evidence_withdraw,
        name="evidence-withdraw",
    ),
    path("<int:pk>/ratings/", views.self_ratings, name="self-ratings"),
    path("<int:pk>/rate/", views.review_rate, name="rate"),
    path("<int:pk>/return/", views.review_return, name="return"),
    path("<int:pk>/acknowledge/", views.review_acknowledge, name="acknowledge"),
    path("<int:pk>/score/", views.review_score, name="score"),
    path("<int:pk>/history/", views.review_history, name="history"),
    path("<int:pk>/score/what-if/", views.review_what_if, name="what-if"),
]
