"""Receiving an upload: Django's multipart parser hands the file to this handler chunk by chunk;
the handler writes each chunk to a temporary file and feeds it to the CID and SHA-256 hashers in
the same pass, and stops the upload as soon as it passes the size cap."""

from __future__ import annotations

from typing import Any

from django.core.files.uploadedfile import TemporaryUploadedFile
from django.core.files.uploadhandler import FileUploadHandler

from files.errors import FileTooLarge
from files.unixfs import CHUNK_SIZE, UnixfsHasher


class HashedUpload(TemporaryUploadedFile):
    """An uploaded file on disk, with the hasher that saw every byte of it."""

    hasher: UnixfsHasher


class HashingUploadHandler(FileUploadHandler):
    chunk_size = CHUNK_SIZE

    def __init__(self, request: Any = None, *, max_bytes: int) -> None:
        super().__init__(request)
        self.max_bytes = max_bytes

    def new_file(self, field_name: str, file_name: str, content_type: str, *args: Any, **kw: Any):
        super().new_file(field_name, file_name, content_type, *args, **kw)
        self.file = HashedUpload(self.file_name, self.content_type, 0, self.charset)
        self.file.hasher = UnixfsHasher()

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        if start + len(raw_data) > self.max_bytes:
            self.file.close()  # deletes the temporary file
            raise FileTooLarge(self.max_bytes)
        self.file.hasher.update(raw_data)
        self.file.write(raw_data)
        return None  # consumed: no later handler sees the chunk

    def file_complete(self, file_size: int) -> HashedUpload:
        self.file.seek(0)
        self.file.size = file_size
        return self.file
