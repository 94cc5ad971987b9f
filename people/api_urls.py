from django.urls import path

from people import api

urlpatterns = [
    path("people/import/", api.OrganisationImportView.as_view(), name="api-people-import"),
    path("tokens/", api.TokenListView.as_view(), name="api-token-list"),
    path("tokens/<str:token_key>/", api.TokenDetailView.as_view(), name="api-token-detail"),
]
