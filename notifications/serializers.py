from __future__ import annotations

from rest_framework import serializers

from notifications.models import Notification
from stxworx.fields import JsonBooleanField, QueryBooleanField, QueryIntegerField
from stxworx.serializers import StrictSerializer


class NotificationFilter(StrictSerializer):
    unread = QueryBooleanField(required=False, default=False)
    limit = QueryIntegerField(required=False, default=20, min_value=1, max_value=100)
    cursor = QueryIntegerField(
        required=False, min_value=1, max_value=2**63 - 1, help_text="nextCursor"
    )


class NotificationOutput(serializers.Serializer):
    id = serializers.IntegerField()
    type = serializers.ChoiceField(choices=Notification.Type.choices)
    projectId = serializers.IntegerField(allow_null=True)
    message = serializers.CharField()
    link = serializers.CharField()
    timestamp = serializers.IntegerField(help_text="Milliseconds since the epoch.")
    read = serializers.BooleanField()


class NotificationPage(serializers.Serializer):
    results = NotificationOutput(many=True)
    nextCursor = serializers.IntegerField(allow_null=True)
    next = serializers.CharField(allow_null=True)


class PreferencesInput(StrictSerializer):
    types = serializers.DictField(child=JsonBooleanField(), allow_empty=False)


class PreferenceOutput(serializers.Serializer):
    enabled = serializers.BooleanField()
    mandatory = serializers.BooleanField()


class PreferencesOutput(serializers.Serializer):
    types = serializers.DictField(child=PreferenceOutput())
