"""Edges of the error envelope: an oversized body is a 413 and an unmatched /api/ path a JSON 404,
also with DEBUG on (where Django would answer with its HTML debug pages)."""

from __future__ import annotations

import json

import pytest

from tests.projects import disputes
from tests.projects.test_apis import assert_error

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("debug", [False, True])
def test_a_body_over_the_upload_limit_is_a_413_in_the_envelope(client_for, settings, debug):
    settings.DEBUG = debug
    project = disputes.active_project()
    dispute = disputes.file(project)
    body = json.dumps({"description": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)})

    response = client_for(project.client_address).post(
        f"/api/disputes/{dispute.pk}/evidence", data=body, content_type="application/json"
    )

    assert_error(response, 413, "payload_too_large")


@pytest.mark.parametrize(
    "path", ["/api/disputes/abc", "/api/disputes/99999999999999999999", "/api/no/such/thing"]
)
def test_unmatched_api_paths_are_json_404s_with_debug_on(anon, settings, path):
    settings.DEBUG = True

    response = anon.get(path)

    assert response["Content-Type"] == "application/json"
    assert_error(response, 404, "not_found")
