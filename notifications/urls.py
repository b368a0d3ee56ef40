from django.urls import path

from notifications import apis

urlpatterns = [
    path("notifications", apis.NotificationListApi.as_view(), name="notifications"),
    path("notifications/unread-count", apis.UnreadCountApi.as_view(), name="notifications-unread"),
    path(
        "notifications/read-all",
        apis.NotificationReadAllApi.as_view(),
        name="notifications-read-all",
    ),
    path(
        "notifications/preferences",
        apis.PreferencesApi.as_view(),
        name="notifications-preferences",
    ),
    path(
        "notifications/<id:notification_id>/read",
        apis.NotificationReadApi.as_view(),
        name="notification-read",
    ),
]
