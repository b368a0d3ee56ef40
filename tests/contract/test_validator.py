"""The response check every API test runs (tests/conftest.py) fails when a response does not
match the served schema; and the served schema has the shapes the frontend relies on."""

from __future__ import annotations

import json

import pytest

from tests.contract.validator import ContractViolation, served_contract

PAGE = {"count": 0, "page": 1, "pageSize": 20, "next": None, "previous": None, "results": []}
ERROR = {"error": {"code": "not_found", "message": "No.", "details": {}}}


def check(method: str, path: str, status: int, body, content_type="application/json") -> None:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    served_contract().check(method, path, status, content_type, raw)


def test_a_response_as_documented_passes():
    check("GET", "/api/projects", 200, PAGE)
    check("GET", "/api/projects/7", 404, ERROR)
    check("GET", "/api/no/such/thing", 404, ERROR)


@pytest.mark.parametrize(
    ("method", "path", "status", "body", "content_type", "says"),
    [
        ("GET", "/api/projects", 200, [], "application/json", "does not match"),  # a bare list
        ("GET", "/api/projects", 200, {**PAGE, "extra": 1}, "application/json", "does not match"),
        ("GET", "/api/projects", 418, ERROR, "application/json", "not documented"),
        ("GET", "/api/projects/7", 404, {"detail": "x"}, "application/json", "does not match"),
        (
            "GET",
            "/api/projects/7",
            404,
            {"error": {**ERROR["error"], "code": "nope"}},
            "application/json",
            "does not match",
        ),
        ("GET", "/api/projects/7", 404, b"<html>", "text/html", "content type"),
        ("POST", "/api/no/such/thing", 403, b"<html>", "text/html", "not a 404/405"),
        ("POST", "/api/no/such/thing", 404, b"<html>", "text/html", "not JSON"),
    ],
)
def test_a_response_off_the_schema_fails(method, path, status, body, content_type, says):
    with pytest.raises(ContractViolation, match=says):
        check(method, path, status, body, content_type)


def test_the_schema_documents_the_frontends_shapes():
    schema = served_contract().schema
    components = schema["components"]["schemas"]
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                if status >= "400":
                    ref = response["content"]["application/json"]["schema"]["$ref"]
                    assert ref == "#/components/schemas/Error", (method, path, status)
            body = operation.get("requestBody", {}).get("content", {})
            for media in body.values():
                name = media["schema"]["$ref"].rsplit("/", 1)[1]
                shapes = components[name].get("oneOf", [{"$ref": f"#/{name}"}])  # each closed
                for shape in shapes:
                    closed = components[shape["$ref"].rsplit("/", 1)[1]]
                    assert closed["additionalProperties"] is False, (method, path)
    lists = [
        "/api/projects",
        "/api/files",
        "/api/projects/{project_id}/reviews",
        "/api/users/{address}/reviews",
        "/api/freelancers/{address}/proposals",
    ]
    for path in lists:
        ok = schema["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]
        page = components[ok["schema"]["$ref"].rsplit("/", 1)[1]]
        assert set(page["required"]) == set(PAGE), path
    assert "delete" not in schema["paths"]["/api/projects/{project_id}"]
    assert {"WsNotification", "WsResume", "WsPing", "WsError", "WsAck"} <= set(components)
