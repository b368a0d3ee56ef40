from __future__ import annotations

from typing import Any

from rest_framework import serializers

from files.conf import gateway_url
from files.models import StoredFile
from stxworx.serializers import StrictSerializer


class FileUploadInput(StrictSerializer):
    # Emptiness, size and type are the service's rules (files.services.stored_file_create).
    file = serializers.FileField(allow_empty_file=True, use_url=False)
    cid = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        help_text="Optional: the CID you computed; the upload is refused if the bytes differ.",
    )


class StoredFileOutput(serializers.Serializer):
    cid = serializers.CharField()
    size = serializers.IntegerField()
    sha256 = serializers.CharField()
    name = serializers.CharField()
    contentType = serializers.CharField(source="content_type")
    url = serializers.SerializerMethodField()
    gateway = serializers.SerializerMethodField()
    ipfsUri = serializers.CharField(source="ipfs_uri")
    uploadedBy = serializers.CharField(source="uploaded_by")
    pinStatus = serializers.CharField(source="pin_status")
    pinError = serializers.CharField(source="pin_error")
    pinnedAt = serializers.DateTimeField(source="pinned_at", allow_null=True)
    createdAt = serializers.DateTimeField(source="created_at")

    def get_url(self, stored: StoredFile) -> str:
        path = f"/api/files/{stored.cid}"
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path

    def get_gateway(self, stored: StoredFile) -> str | None:
        return gateway_url(stored.cid)

    def to_representation(self, instance: Any) -> dict[str, Any]:
        data = super().to_representation(instance)
        data["pinError"] = data["pinError"] or None
        return data
