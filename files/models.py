"""Files kept content-addressed: each is known by its IPFS CID (CIDv1, as `ipfs add
--cid-version=1` computes it), its bytes live in Django's storage under that CID, and a pinning
service (or a Kubo node) is asked to keep it on IPFS."""

from __future__ import annotations

from django.db import models

from stxworx.models import TimeStampedModel


class StoredFile(TimeStampedModel):
    class PinStatus(models.TextChoices):
        UNPINNED = "unpinned"  # kept locally only: no pinning service or Kubo node configured
        PENDING = "pending"  # a pin is queued, or the service is still fetching it
        PINNED = "pinned"
        FAILED = "failed"  # the service refused it, or the retries ran out

    # One service per transition (files/services/pinning.py). PENDING -> PENDING is a retry or a
    # poll of a queued pin; FAILED/UNPINNED -> PENDING is a pin requested again (admin action, or
    # pinning configured after the upload).
    TRANSITIONS = {
        PinStatus.UNPINNED: {PinStatus.PENDING},
        PinStatus.PENDING: {PinStatus.PENDING, PinStatus.PINNED, PinStatus.FAILED},
        PinStatus.FAILED: {PinStatus.PENDING},
        PinStatus.PINNED: set(),
    }

    cid = models.CharField(max_length=128, unique=True, help_text="CIDv1, base32.")
    sha256 = models.CharField(max_length=64, help_text="Hex SHA-256 of the whole file.")
    size = models.PositiveBigIntegerField()
    name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=127)
    uploaded_by = models.CharField(max_length=64, help_text="Stacks address of the uploader.")
    storage_name = models.CharField(max_length=255, help_text="Its name in Django's storage.")

    pin_status = models.CharField(
        max_length=16, choices=PinStatus.choices, default=PinStatus.UNPINNED
    )
    pin_service = models.CharField(
        max_length=16, blank=True, help_text="'pinning' (Pinning Service API) or 'kubo'."
    )
    pin_request_id = models.CharField(max_length=128, blank=True)
    pin_attempts = models.PositiveIntegerField(default=0)
    pin_error = models.CharField(max_length=500, blank=True)
    pin_next_attempt_at = models.DateTimeField(null=True, blank=True)
    pinned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["uploaded_by", "-id"]),
            models.Index(fields=["pin_status", "pin_next_attempt_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(pin_status__in=["unpinned", "pending", "pinned", "failed"]),
                name="files_storedfile_pin_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.cid})"

    @property
    def ipfs_uri(self) -> str:
        return f"ipfs://{self.cid}"

    def can_become(self, status: str) -> bool:
        return status in self.TRANSITIONS[self.PinStatus(self.pin_status)]
