from __future__ import annotations

from django.contrib import admin
from django.urls import include, path, re_path, register_converter
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from chainsync.selectors import sync_status_get
from stxworx import views
from stxworx.converters import IdConverter

register_converter(IdConverter, "id")

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, {"indexer": sync_status_get}, name="readyz"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("api/", include("accounts.urls")),
    path("api/", include("projects.urls")),
    path("api/", include("proposals.urls")),
    path("api/", include("notifications.urls")),
    path("api/", include("chainsync.urls")),
    path("api/", include("files.urls")),
    # Anything else under /api/ is a JSON 404, also with DEBUG on (Django's debug page is HTML).
    re_path(r"^api/", views.not_found),
]

handler400 = "stxworx.views.bad_request"
handler403 = "stxworx.views.permission_denied"
handler404 = "stxworx.views.not_found"
handler500 = "stxworx.views.server_error"
