from django.urls import path

from calibration import api

S = "calibration/sessions/<int:pk>"
urlpatterns = [
    path("calibration/sessions/", api.SessionListView.as_view(), name="api-session-list"),
    path(f"{S}/", api.SessionDetailView.as_view(), name="api-session-detail"),
    path(f"{S}/board/", api.BoardView.as_view(), name="api-session-board"),
    path(f"{S}/analytics/", api.AnalyticsView.as_view(), name="api-session-analytics"),
    path(f"{S}/adjustments/", api.AdjustmentListView.as_view(), name="api-session-adjustments"),
    path(f"{S}/prereads/", api.PreReadView.as_view(), name="api-session-prereads"),
    path(f"{S}/open/", api.SessionOpenView.as_view(), name="api-session-open"),
    path(f"{S}/lock/", api.SessionLockView.as_view(), name="api-session-lock"),
    path(f"{S}/unlock/", api.SessionUnlockView.as_view(), name="api-session-unlock"),
    path(f"{S}/close/", api.SessionCloseView.as_view(), name="api-session-close"),
    path(f"{S}/reviews/", api.SessionAddReviewsView.as_view(), name="api-session-add-reviews"),
    path(f"{S}/export.csv", api.ExportView.as_view(), name="api-session-export"),
    path(
        "reviews/<int:pk>/calibration-history/",
        api.CalibrationHistoryView.as_view(),
        name="api-calibration-history",
    ),
    path("reviews/<int:pk>/appeals/", api.AppealCreateView.as_view(), name="api-appeal-create"),
    path("appeals/", api.AppealListView.as_view(), name="api-appeal-list"),
    path("appeals/<int:pk>/resolve/", api.AppealResolveView.as_view(), name="api-appeal-resolve"),
    path("cycles/<int:pk>/health/", api.CycleHealthView.as_view(), name="api-cycle-health"),
]
