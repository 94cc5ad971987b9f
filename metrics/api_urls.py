from django.urls import path

from metrics import api

urlpatterns = [
    path("metrics/events/", api.EventsView.as_view(), name="api-metrics-events"),
    path("metrics/events/import/", api.EventsImportView.as_view(), name="api-metrics-import"),
    path("metrics/sources/", api.SourceListView.as_view(), name="api-metrics-sources"),
    path(
        "metrics/sources/<int:pk>/revoke/",
        api.SourceRevokeView.as_view(),
        name="api-metrics-source-revoke",
    ),
    path("teams/<int:pk>/scorecard/", api.ScorecardView.as_view(), name="api-team-scorecard"),
]
