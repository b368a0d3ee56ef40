from django.urls import path

from accounts import apis

urlpatterns = [
    path("users/me", apis.MeApi.as_view(), name="users-me"),
    path("users/<str:address>", apis.UserDetailApi.as_view(), name="user-detail"),
    path("users/<str:address>/reviews", apis.UserReviewsApi.as_view(), name="user-reviews"),
]
