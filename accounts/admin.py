from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from accounts.models import RevokedToken, SignInChallenge, User, WebSocketTicket
from stxworx.admin import ReadOnlyAdmin


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["address"]
    list_display = ["address", "display_name", "is_staff", "is_active", "date_joined"]
    list_filter = ["is_staff", "is_superuser", "is_active", "groups"]
    search_fields = ["address", "display_name"]
    fieldsets = [
        (None, {"fields": ["address", "password"]}),
        ("Profile", {"fields": ["display_name", "bio", "skills"]}),
        ("Permissions", {"fields": ["is_active", "is_staff", "is_superuser", "groups"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["address", "password1", "password2"]})]


@admin.register(SignInChallenge)
class SignInChallengeAdmin(ReadOnlyAdmin):
    list_display = ["address", "issued_at", "expires_at", "used_at"]
    search_fields = ["address"]
    exclude = ["nonce"]


@admin.register(WebSocketTicket)
class WebSocketTicketAdmin(ReadOnlyAdmin):
    list_display = ["user", "expires_at", "used_at"]
    exclude = ["ticket_hash"]


@admin.register(RevokedToken)
class RevokedTokenAdmin(ReadOnlyAdmin):
    list_display = ["jti", "expires_at"]
