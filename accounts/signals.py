"""What accounts tells the apps above it, without importing them."""

from django.dispatch import Signal

# A session's token was revoked (sign-out): sent with `jti`. Notifications closes the WebSockets
# opened with it (notifications.apps connects notifications.services.session_revoked_push).
session_revoked = Signal()
