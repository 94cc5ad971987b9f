from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from people import search, views

urlpatterns = [
    path("", views.account, name="account"),
    path("search/people/", search.person_search, name="person-search"),
    path("search/teams/", search.team_search, name="team-search"),
    path("tokens/", views.token_issue, name="account-token-issue"),
    path("tokens/<str:token_key>/revoke/", views.token_revoke, name="account-token-revoke"),
    path(
        "password/",
        auth_views.PasswordChangeView.as_view(success_url=reverse_lazy("password_change_done")),
        name="password_change",
    ),
    path(
        "password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
]
