from django.urls import path

from metrics import views

app_name = "metrics"
urlpatterns = [
    path("teams/<int:pk>/scorecard/", views.scorecard, name="scorecard"),
    path("governance/", views.governance, name="governance"),
    path("governance/rubrics/<slug:slug>/", views.rubric_governance, name="rubric-governance"),
    path("governance/<int:pk>/review/", views.governance_review, name="governance-review"),
    path("governance/reviews/<int:pk>/sign/", views.governance_sign, name="governance-sign"),
]
