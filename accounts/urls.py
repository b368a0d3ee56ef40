from django.urls import path

from accounts import apis, auth_apis

urlpatterns = [
    path("auth/challenge", auth_apis.ChallengeApi.as_view(), name="auth-challenge"),
    path("auth/verify", auth_apis.VerifyApi.as_view(), name="auth-verify"),
    path("auth/me", auth_apis.AuthMeApi.as_view(), name="auth-me"),
    path("auth/logout", auth_apis.LogoutApi.as_view(), name="auth-logout"),
    path("auth/ws-ticket", auth_apis.WsTicketApi.as_view(), name="auth-ws-ticket"),
    path("users/me", apis.MeApi.as_view(), name="users-me"),
]
