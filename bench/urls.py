"""The project's URLs plus the hand-written floor view the bench compares the API with."""

from __future__ import annotations

from django.urls import path

from bench import floor
from stxworx.urls import handler400, handler403, handler404, handler500  # noqa: F401
from stxworx.urls import urlpatterns as project_urlpatterns

urlpatterns = [
    *project_urlpatterns,
    path("bench/floor/projects", floor.projects_floor, name="bench-floor-projects"),
]
