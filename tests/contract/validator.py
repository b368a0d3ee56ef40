"""Check a response against the OpenAPI schema the server serves: the status is one the
operation documents, the content type is the documented one, the JSON body matches its schema.
Used on every response of the API tests (tests/conftest.py) and by tests/contract."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from typing import Any

import jsonschema

METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}


class ContractViolation(AssertionError):
    pass


def _nullable(node: Any) -> Any:
    """OpenAPI 3.0's `nullable` as JSON Schema (`type: [t, "null"]` or an `anyOf` with null)."""
    if isinstance(node, list):
        return [_nullable(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _nullable(value) for key, value in node.items()}
    if node.pop("nullable", False):
        if "enum" in node and None not in node["enum"]:
            node["enum"] = [*node["enum"], None]
        if isinstance(node.get("type"), str):
            node["type"] = [node["type"], "null"]
        elif "type" not in node:
            rest = {k: v for k, v in node.items() if k in ("description", "title")}
            return {"anyOf": [node, {"type": "null"}], **rest}
    return node


@dataclass(frozen=True)
class Operation:
    path: str
    method: str
    spec: dict[str, Any]


class Contract:
    def __init__(self, schema: dict[str, Any]) -> None:
        self.schema = schema
        self.components = _nullable(schema.get("components", {}))
        self.routes: list[tuple[int, re.Pattern[str], str]] = []
        for path in schema["paths"]:
            parts = re.split(r"\{[^}]+\}", path)
            regex = "[^/]+".join(re.escape(part) for part in parts)
            self.routes.append((path.count("{"), re.compile(f"^{regex}$"), path))
        self.routes.sort(key=lambda route: route[0])  # /users/me before /users/{address}

    def operation(self, path: str, method: str) -> Operation | None:
        for _params, regex, template in self.routes:
            if regex.match(path):
                item = self.schema["paths"][template]
                # HEAD is GET without the body, where the schema does not list it apart
                spec = item.get(method.lower()) or (
                    item.get("get") if method.lower() == "head" else None
                )
                return Operation(template, method.lower(), spec) if spec else None
        return None

    def validate_json(self, schema: dict[str, Any], body: Any, where: str) -> None:
        document = {"allOf": [_nullable(schema)], "components": self.components}
        errors = sorted(
            jsonschema.Draft202012Validator(document).iter_errors(body), key=lambda e: e.path
        )
        if errors:
            first = errors[0]
            path = "/".join(str(p) for p in first.absolute_path)
            raise ContractViolation(
                f"{where}: body does not match its schema at /{path}: "
                f"{first.message}\n{json.dumps(body)[:2000]}"
            )

    def error_schema(self) -> dict[str, Any]:
        return {"$ref": "#/components/schemas/Error"}

    def check(
        self, method: str, path: str, status: int, content_type: str, body: bytes | None
    ) -> None:
        """`body` None: a stream, not read (its status and content type are still checked)."""
        where = f"{method.upper()} {path} -> {status}"
        media = content_type.split(";")[0].strip().lower()
        operation = self.operation(path, method)
        if operation is None:  # an unknown path or method: the error envelope, 404 or 405
            if status not in (404, 405):
                raise ContractViolation(f"{where}: no such operation, but not a 404/405")
            self._check_error(where, media, body)
            return
        responses = operation.spec["responses"]
        documented = responses.get(str(status)) or responses.get("default")
        if documented is None:
            raise ContractViolation(
                f"{where}: status not documented for {operation.method.upper()} "
                f"{operation.path} (documented: {', '.join(responses)})"
            )
        content = documented.get("content")
        if not content:
            if body:
                raise ContractViolation(
                    f"{where}: documented without a body, answered {body[:200]!r}"
                )
            return
        if media not in content and "*/*" not in content:
            raise ContractViolation(
                f"{where}: content type {content_type!r} not in {list(content)}"
            )
        if media == "application/json" and body is not None:
            schema = content[media].get("schema")
            if schema is not None:
                self.validate_json(schema, _json(where, body), where)

    def _check_error(self, where: str, media: str, body: bytes | None) -> None:
        if media != "application/json":
            raise ContractViolation(f"{where}: an error that is not JSON ({media})")
        if body is not None:
            self.validate_json(self.error_schema(), _json(where, body), where)


def _json(where: str, body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        raise ContractViolation(f"{where}: not JSON: {body[:200]!r}") from None


@cache
def served_contract() -> Contract:
    """The schema as /api/schema/ serves it (generated in-process: the same generator)."""
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.renderers import OpenApiJsonRenderer

    schema = SchemaGenerator().get_schema(request=None, public=True)
    return Contract(json.loads(OpenApiJsonRenderer().render(schema)))
