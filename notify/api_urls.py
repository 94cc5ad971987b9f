from django.urls import path

from notify import api

urlpatterns = [
    path("notifications/", api.NotificationListView.as_view(), name="api-notifications"),
    path(
        "notifications/unread-count/",
        api.UnreadCountView.as_view(),
        name="api-notifications-unread-count",
    ),
    path("notifications/read/", api.MarkReadView.as_view(), name="api-notifications-read"),
    path(
        "notifications/preferences/",
        api.PreferencesView.as_view(),
        name="api-notifications-preferences",
    ),
]
