from __future__ import annotations

from rest_framework import serializers

from accounts.models import User
from stxworx.serializers import StrictSerializer


class ProfileUpdateInput(StrictSerializer):
    displayName = serializers.CharField(source="display_name", max_length=80, allow_blank=True)
    bio = serializers.CharField(max_length=2000, allow_blank=True)
    skills = serializers.ListField(child=serializers.CharField(max_length=50), max_length=30)

    def __init__(self, *args, **kwargs):  # a PATCH: every field optional
        super().__init__(*args, partial=True, **kwargs)


class UserOutput(serializers.ModelSerializer):
    displayName = serializers.CharField(source="display_name")
    isStaff = serializers.BooleanField(source="is_staff")
    dateJoined = serializers.DateTimeField(source="date_joined")

    class Meta:
        model = User
        fields = ["address", "displayName", "bio", "skills", "isStaff", "dateJoined"]


class ReviewSummary(serializers.Serializer):
    count = serializers.IntegerField()
    averageRating = serializers.FloatField(allow_null=True)


class PublicProfileOutput(UserOutput):
    reviews = ReviewSummary(source="review_summary")

    class Meta(UserOutput.Meta):
        fields = ["address", "displayName", "bio", "skills", "dateJoined", "reviews"]
