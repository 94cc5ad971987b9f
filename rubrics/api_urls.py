from django.urls import path

from rubrics import api

urlpatterns = [
    path("rubrics/", api.RubricListView.as_view(), name="api-rubric-list"),
    path("rubrics/<slug:slug>/", api.RubricDetailView.as_view(), name="api-rubric-detail"),
    path(
        "rubrics/<slug:slug>/changelog/",
        api.RubricChangelogView.as_view(),
        name="api-rubric-changelog",
    ),
    path("rubrics/<slug:slug>/diff/", api.RubricDiffView.as_view(), name="api-rubric-diff"),
    path(
        "rubrics/<slug:slug>/versions/", api.VersionCreateView.as_view(), name="api-version-create"
    ),
    path(
        "rubrics/<slug:slug>/versions/<int:number>/",
        api.VersionDetailView.as_view(),
        name="api-version-detail",
    ),
    path(
        "rubrics/<slug:slug>/versions/<int:number>/export.yaml",
        api.VersionExportView.as_view(),
        name="api-version-export",
    ),
    path(
        "rubrics/<slug:slug>/versions/<int:number>/lint/",
        api.VersionLintView.as_view(),
        name="api-version-lint",
    ),
    path(
        "rubrics/<slug:slug>/versions/<int:number>/publish/",
        api.VersionPublishView.as_view(),
        name="api-version-publish",
    ),
    path(
        "rubrics/<slug:slug>/versions/<int:number>/approve/",
        api.VersionApproveView.as_view(),
        name="api-version-approve",
    ),
    path(
        "rubrics/<slug:slug>/versions/<int:number>/send-back/",
        api.VersionSendBackView.as_view(),
        name="api-version-send-back",
    ),
    path(
        "rubrics/<slug:slug>/versions/<int:number>/retire/",
        api.VersionRetireView.as_view(),
        name="api-version-retire",
    ),
    path(
        "rubrics/<slug:slug>/versions/<int:number>/draft-readers/",
        api.VersionGrantView.as_view(),
        name="api-version-grant",
    ),
    path(
        "rubrics/<slug:slug>/versions/<int:number>/score-preview/",
        api.ScorePreviewView.as_view(),
        name="api-score-preview",
    ),
]
