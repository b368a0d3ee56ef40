"""ASGI entry point: HTTP through Django, WebSocket through Channels."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stxworx.settings")
# Initialise Django (apps, models) before importing anything that touches them.
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from notifications.routing import websocket_urlpatterns  # noqa: E402

# WebSockets authenticate with a single-use ticket in the URL, not cookies, so a cross-site page
# cannot ride on a session: no origin check is needed, and the React app may live anywhere.
application = ProtocolTypeRouter(
    {"http": django_asgi_app, "websocket": URLRouter(websocket_urlpatterns)}
)
