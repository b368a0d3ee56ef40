from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from accounts.models import RevokedToken, User


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


@admin.register(RevokedToken)
class RevokedTokenAdmin(admin.ModelAdmin):
    list_display = ["jti", "expires_at"]
