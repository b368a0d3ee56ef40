"""Every write of the files app. storage.py: keeping uploaded bytes under their CID;
pinning.py: the pin status and its transitions."""

from files.services.pinning import (
    pin_enqueue,
    stored_file_pin_advance,
    stored_file_pin_request,
    stored_files_pin_due,
)
from files.services.storage import Digest, file_digest, stored_file_create

__all__ = [
    "Digest",
    "file_digest",
    "pin_enqueue",
    "stored_file_create",
    "stored_file_pin_advance",
    "stored_file_pin_request",
    "stored_files_pin_due",
]
