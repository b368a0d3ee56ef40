"""The notifications WebSocket's messages as OpenAPI components (a drf-spectacular postprocessing
hook, named in settings): the stream itself is described in the schema's info text."""

from __future__ import annotations

from typing import Any

from notifications.models import Notification


def _websocket_components() -> dict[str, Any]:
    closed = {"type": "object", "additionalProperties": False}
    return {
        "WsResume": {
            **closed,
            "required": ["resume"],
            "properties": {"resume": {"type": "integer", "minimum": 0}},
        },
        "WsAck": {**closed, "required": ["ack"], "properties": {"ack": {"type": "integer"}}},
        "WsNotification": {
            **closed,
            "required": ["id", "type", "projectId", "message", "link", "timestamp"],
            "properties": {
                "id": {"type": "integer"},
                "type": {"type": "string", "enum": list(Notification.Type.values)},
                "projectId": {"type": "integer", "nullable": True},
                "message": {"type": "string"},
                "link": {"type": "string"},
                "timestamp": {"type": "integer", "description": "Milliseconds since the epoch."},
            },
        },
        "WsPing": {
            **closed,
            "required": ["type", "timestamp"],
            "properties": {"type": {"enum": ["ping"]}, "timestamp": {"type": "integer"}},
        },
        "WsError": {
            **closed,
            "required": ["type", "message"],
            "properties": {"type": {"enum": ["error"]}, "message": {"type": "string"}},
        },
    }


def websocket_components_add(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict:
    """The WebSocket's messages as components (the stream is described in the info)."""
    result.setdefault("components", {}).setdefault("schemas", {}).update(_websocket_components())
    return result
