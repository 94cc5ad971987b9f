from django.urls import path

from people import org_views

app_name = "people"

urlpatterns = [
    path("import/", org_views.org_import, name="import"),
    path("organisation.csv", org_views.org_export, name="export"),
]
