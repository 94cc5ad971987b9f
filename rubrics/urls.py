from django.urls import path

from rubrics import manage_views, views

app_name = "rubrics"
urlpatterns = [
    path("", views.rubric_list, name="list"),
    path("import/", manage_views.rubric_import, name="import"),
    path("<slug:slug>/", views.rubric_detail, name="detail"),
    path("<slug:slug>/diff/", views.rubric_diff, name="diff"),
    path("<slug:slug>/draft/", manage_views.draft_start, name="draft-start"),
    path("<slug:slug>/versions/<int:number>/", manage_views.version_page, name="version"),
    *(
        path(
            f"<slug:slug>/versions/<int:number>/{step}/",
            getattr(manage_views, f"version_{step.replace('-', '_')}"),
            name=f"version-{step}",
        )
        for step in ("publish", "approve", "send-back", "retire")
    ),
]
