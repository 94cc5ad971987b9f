from django.urls import path

from rubrics import views

app_name = "rubrics"
urlpatterns = [
    path("", views.rubric_list, name="list"),
    path("<slug:slug>/", views.rubric_detail, name="detail"),
    path("<slug:slug>/diff/", views.rubric_diff, name="diff"),
]
