from __future__ import annotations

from typing import Any

from django.http import QueryDict
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from notifications import selectors, services
from notifications.events import notification_wire
from notifications.models import Notification
from notifications.serializers import (
    NotificationFilter,
    NotificationOutput,
    NotificationPage,
    PreferencesInput,
    PreferencesOutput,
)
from stxworx.apis import actor, query, validated
from stxworx.openapi import errors


def _item(notification: Notification) -> dict[str, Any]:
    return {**notification_wire(notification), "read": notification.read_at is not None}


class NotificationListApi(APIView):
    """Cursor pagination: newest first; pass `nextCursor` back as `cursor` for the next page."""

    permission_classes = [IsAuthenticated]

    @extend_schema(parameters=[NotificationFilter], responses=NotificationPage)
    def get(self, request: Request) -> Response:
        filters = validated(NotificationFilter, query(request))
        limit = filters["limit"]
        rows = list(
            selectors.notification_list(
                recipient=actor(request), unread=filters["unread"], before=filters.get("cursor")
            )[: limit + 1]
        )
        more = len(rows) > limit
        rows = rows[:limit]
        cursor = rows[-1].pk if more else None
        return Response(
            {
                "results": [_item(n) for n in rows],
                "nextCursor": cursor,
                "next": self._next_url(request, cursor),
            }
        )

    def _next_url(self, request: Request, cursor: int | None) -> str | None:
        if cursor is None:
            return None
        query: QueryDict = request.query_params.copy()
        query["cursor"] = str(cursor)
        return request.build_absolute_uri(f"{request.path}?{query.urlencode()}")


class NotificationReadApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses=NotificationOutput)
    def put(self, request: Request, notification_id: int) -> Response:
        notification = services.notification_mark_read(
            notification_id=notification_id, recipient=actor(request)
        )
        return Response(_item(notification))


class NotificationReadAllApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=None,
        responses=inline_serializer("ReadAll", {"updated": serializers.IntegerField()}),
    )
    def put(self, request: Request) -> Response:
        return Response({"updated": services.notification_mark_all_read(recipient=actor(request))})


class UnreadCountApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        responses=inline_serializer("UnreadCount", {"count": serializers.IntegerField()})
    )
    def get(self, request: Request) -> Response:
        return Response({"count": selectors.notification_unread_count(recipient=actor(request))})


class PreferencesApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=PreferencesOutput)
    def get(self, request: Request) -> Response:
        return Response({"types": selectors.preferences_get(recipient=actor(request))})

    @errors(422)
    @extend_schema(request=PreferencesInput, responses=PreferencesOutput)
    def put(self, request: Request) -> Response:
        data = validated(PreferencesInput, request.data)
        services.preferences_update(recipient=actor(request), enabled=data["types"])
        return Response({"types": selectors.preferences_get(recipient=actor(request))})
