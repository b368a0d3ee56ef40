from __future__ import annotations

from stxworx.errors import ApplicationError, Conflict, InvalidInput


class FileTooLarge(InvalidInput):
    code = "file_too_large"
    http_status = 413

    def __init__(self, max_bytes: int) -> None:
        super().__init__(f"The file is larger than the limit of {max_bytes} bytes.", field="file")
        self.extra["maxBytes"] = max_bytes


class StorageQuotaExceeded(ApplicationError):
    """The user's uploads would pass FILES["QUOTA_BYTES_PER_USER"]."""

    code = "storage_quota_exceeded"
    http_status = 413

    def __init__(self, *, used: int, size: int, quota: int) -> None:
        super().__init__(
            f"This upload ({size} bytes) would take your files past your storage quota of "
            f"{quota} bytes ({used} used).",
            extra={"usedBytes": used, "quotaBytes": quota},
        )


class FileTypeNotAllowed(InvalidInput):
    code = "unsupported_file_type"
    http_status = 415


class FileIntegrityError(Conflict):
    """The stored bytes no longer hash to the file's CID (or are gone): they are not served.
    409: the file's record and its bytes disagree; a client can fetch the CID elsewhere
    (the gateway URL is in `details`) or upload the same bytes again to repair it."""

    code = "file_integrity_failed"


class PinError(ApplicationError):
    """A pinning service or Kubo node failed. `transient` errors are retried."""

    code = "pin_failed"
    http_status = 502

    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient
