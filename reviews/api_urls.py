from django.urls import path

from reviews import api

urlpatterns = [
    path("cycles/", api.CycleListView.as_view(), name="api-cycle-list"),
    path("cycles/<int:pk>/", api.CycleDetailView.as_view(), name="api-cycle-detail"),
    path("cycles/<int:pk>/open/", api.CycleOpenView.as_view(), name="api-cycle-open"),
    path("cycles/<int:pk>/advance/", api.CycleAdvanceView.as_view(), name="api-cycle-advance"),
    path("cycles/<int:pk>/reopen/", api.CycleReopenView.as_view(), name="api-cycle-reopen"),
    path("cycles/<int:pk>/engineers/", api.CycleAddEngineerView.as_view(), name="api-cycle-add"),
    path(
        "cycles/<int:pk>/recompute/", api.CycleRecomputeView.as_view(), name="api-cycle-recompute"
    ),
    path("reviews/", api.ReviewListView.as_view(), name="api-review-list"),
    path("reviews/<int:pk>/", api.ReviewDetailView.as_view(), name="api-review-detail"),
    path("reviews/<int:pk>/evidence/", api.EvidenceListView.as_view(), name="api-evidence"),
    path("reviews/<int:pk>/evidence/paste/", api.EvidencePasteView.as_view(), name="api-paste"),
    path(
        "reviews/<int:pk>/evidence/<int:evidence_pk>/",
        api.EvidenceDetailView.as_view(),
        name="api-evidence-detail",
    ),
    path(
        "reviews/<int:pk>/evidence/<int:evidence_pk>/withdraw/",
        api.EvidenceWithdrawView.as_view(),
        name="api-evidence-withdraw",
    ),
    path("reviews/<int:pk>/ratings/self/", api.SelfRatingsView.as_view(), name="api-self-ratings"),
    path(
        "reviews/<int:pk>/ratings/manager/",
        api.ManagerRatingsView.as_view(),
        name="api-manager-ratings",
    ),
    path("reviews/<int:pk>/submit-self/", api.SubmitSelfView.as_view(), name="api-submit-self"),
    path("reviews/<int:pk>/return/", api.ReturnView.as_view(), name="api-return"),
    path(
        "reviews/<int:pk>/submit-manager/",
        api.SubmitManagerView.as_view(),
        name="api-submit-manager",
    ),
    path("reviews/<int:pk>/finalize/", api.FinalizeView.as_view(), name="api-finalize"),
    path("reviews/<int:pk>/acknowledge/", api.AcknowledgeView.as_view(), name="api-acknowledge"),
    path("reviews/<int:pk>/score/", api.ScoreView.as_view(), name="api-score"),
    path("reviews/<int:pk>/score/what-if/", api.WhatIfView.as_view(), name="api-what-if"),
    path("teams/<int:pk>/metrics/", api.TeamMetricsView.as_view(), name="api-team-metrics"),
]
