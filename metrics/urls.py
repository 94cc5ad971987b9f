from django.urls import path

from metrics import views

app_name = "metrics"
urlpatterns = [
    path("teams/<int:pk>/scorecard/", views.scorecard, name="scorecard"),
]
