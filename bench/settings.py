"""Settings for the benchmark: the project's settings, a throwaway SQLite file, no debug."""

from __future__ import annotations

import os

from django.core.exceptions import ImproperlyConfigured

from stxworx.settings import *  # noqa: F403
from stxworx.settings import DATABASES, REST_FRAMEWORK

ROOT_URLCONF = "bench.urls"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
# What production serves: JSON only (the development default adds the browsable renderer).
REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_RENDERER_CLASSES": ["stxworx.renderers.JSONRenderer"],
}

if not DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    raise ImproperlyConfigured("The bench runs on the embedded SQLite default; unset DATABASE_URL.")
# Same engine and options as the embedded default, in a file of its own.
DATABASES = {
    "default": {
        **DATABASES["default"],
        "NAME": os.environ.get("BENCH_SQLITE_PATH", "/tmp/stxworx-bench.sqlite3"),
        "TEST": {},
    }
}
