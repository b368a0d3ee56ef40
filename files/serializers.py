from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator
from rest_framework import serializers

from files.cid import InvalidCid, cid_normalize
from files.conf import gateway_url
from files.models import StoredFile
from files.selectors import IPFS_SCHEME, ipfs_link_target
from stxworx.errors import UNPROCESSABLE
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


PUBLIC_PIN_ERRORS = {
    StoredFile.PinStatus.PENDING: "The last pinning attempt failed; it will be retried.",
    StoredFile.PinStatus.FAILED: "Pinning failed; staff have been told.",
}


def sees_private_fields(user: Any, stored: StoredFile) -> bool:
    """The uploader and staff see who uploaded a file and the pinning service's own error text;
    anyone else holding the CID sees neither (a wallet address, internal hosts and paths)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return bool(user.is_staff) or getattr(user, "address", None) == stored.uploaded_by


class StoredFileOutput(serializers.Serializer):
    """A file record. `uploadedBy` and the raw `pinError` only for the uploader and staff:
    `uploadedBy` is null and `pinError` a generic sentence for anyone else."""

    cid = serializers.CharField()
    size = serializers.IntegerField()
    sha256 = serializers.CharField()
    name = serializers.CharField()
    contentType = serializers.CharField(source="content_type")
    url = serializers.SerializerMethodField()
    gateway = serializers.SerializerMethodField()
    ipfsUri = serializers.CharField(source="ipfs_uri")
    uploadedBy = serializers.CharField(
        source="uploaded_by",
        allow_null=True,
        help_text="Null for anyone but the uploader and staff.",
    )
    pinStatus = serializers.CharField(source="pin_status")
    pinError = serializers.CharField(source="pin_error", allow_null=True)
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
        request = self.context.get("request")
        if not sees_private_fields(getattr(request, "user", None), instance):
            data["uploadedBy"] = None
            if data["pinError"]:
                data["pinError"] = PUBLIC_PIN_ERRORS.get(instance.pin_status, "Pinning failed.")
        return data


class DeliverableLinkField(serializers.CharField):
    """A link to work or evidence: an http(s)/ftp URL (as a URLField takes), or `ipfs://<cid>`
    (any form of the CID; returned as `ipfs://<CIDv1 base32>`). Shape only: whether the CID was
    uploaded here is the service's check (files.selectors.ipfs_link_file)."""

    url_validator = URLValidator(message="Enter a valid URL or an ipfs://<cid> link.")

    def to_internal_value(self, data: Any) -> str:
        link = super().to_internal_value(data)
        target = ipfs_link_target(link)
        if target is None:
            try:
                self.url_validator(link)
            except DjangoValidationError as exc:
                raise serializers.ValidationError(exc.messages, code=UNPROCESSABLE) from None
            return link
        try:
            return f"{IPFS_SCHEME}{cid_normalize(target)}"
        except InvalidCid as exc:
            raise serializers.ValidationError(
                f"Not an ipfs://<cid> link: {exc}", code=UNPROCESSABLE
            ) from None
