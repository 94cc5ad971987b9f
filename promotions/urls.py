from django.urls import path

from promotions import export_views, views

app_name = "promotions"
urlpatterns = [
    path("", views.case_list, name="list"),
    path("<int:pk>/", views.case_detail, name="case"),
    path("<int:pk>/submit/", views.case_submit, name="submit"),
    path("<int:pk>/committee/", views.committee_search, name="committee"),
    path("<int:pk>/decide/", views.case_decide, name="decide"),
    path("<int:pk>/share/", views.case_share, name="share"),
    path("<int:pk>/export/", views.packet_export, name="export"),
    path("jobs/<str:job_id>/", views.job_status, name="job"),
    path("exports/", export_views.export_list, name="exports"),
    path("exports/<str:job_id>/", export_views.export_row, name="export-row"),
]
