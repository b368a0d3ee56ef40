from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified, StreamingHttpResponse
from django.utils.http import content_disposition_header
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from files import selectors, services
from files.conf import files_settings
from files.errors import FileTooLarge
from files.models import StoredFile
from files.serializers import FileUploadInput, StoredFileOutput
from files.sniff import INLINE_TYPES
from files.throttles import (
    DownloadAnonThrottle,
    DownloadUserThrottle,
    UploadIpThrottle,
    UploadUserThrottle,
)
from files.uploads import HashedUpload, HashingUploadHandler
from stxworx.apis import actor, validated
from stxworx.errors import InvalidInput
from stxworx.openapi import errors
from stxworx.pagination import PageNumberPagination

MULTIPART_OVERHEAD = 64 * 1024  # headers, boundaries and the small fields around the file
IMMUTABLE = "public, max-age=31536000, immutable"


def _output(stored: StoredFile, request: Request, code: int = status.HTTP_200_OK) -> Response:
    return Response(StoredFileOutput(stored, context={"request": request}).data, status=code)


class FilesApi(APIView):
    """POST: multipart upload of one file (`file`), optionally with the `cid` the client expects;
    201 with the new file, 200 with the existing one when the same bytes were uploaded before.
    One record per CID: bytes someone else uploaded first keep that upload's name, stay listed
    under that uploader only, and show `uploadedBy: null` to anyone else; attaching them by CID
    works for everyone (a CID proves nothing secret).
    GET: the signed-in user's uploads, newest first (to attach one again by its CID)."""

    permission_classes = [IsAuthenticated]
    parser_classes = [MultiPartParser]

    def get_throttles(self) -> list[Any]:
        if self.request.method != "POST":
            return []
        return [UploadUserThrottle(), UploadIpThrottle()]

    def initialize_request(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Request:
        # Before anything reads the body: hash while receiving, stop at the cap.
        max_bytes = files_settings()["MAX_BYTES"]
        request.upload_handlers = [HashingUploadHandler(request, max_bytes=max_bytes)]
        return super().initialize_request(request, *args, **kwargs)

    @extend_schema(responses=StoredFileOutput(many=True))
    def get(self, request: Request) -> Response:
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(
            selectors.stored_file_list(uploaded_by=actor(request)), request, view=self
        )
        data = StoredFileOutput(page, many=True, context={"request": request}).data
        return paginator.get_paginated_response(data)

    @errors(409, 422)
    @extend_schema(
        request={"multipart/form-data": FileUploadInput},
        responses={201: StoredFileOutput, 200: StoredFileOutput},
    )
    def post(self, request: Request) -> Response:
        max_bytes = files_settings()["MAX_BYTES"]
        if int(request.META.get("CONTENT_LENGTH") or 0) > max_bytes + MULTIPART_OVERHEAD:
            raise FileTooLarge(max_bytes)  # refused before a byte of the body is read
        if len(request.FILES.getlist("file")) > 1:  # the form would keep only the last
            raise InvalidInput("Send exactly one file per request.", field="file")
        data = validated(FileUploadInput, request.data)
        upload = data["file"]
        stored, created = services.stored_file_create(
            content=upload,
            name=upload.name,
            content_type=upload.content_type,
            uploaded_by=actor(request),
            digest=services.Digest.of(upload.hasher) if isinstance(upload, HashedUpload) else None,
            expected_cid=data.get("cid") or None,
        )
        return _output(stored, request, status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class FileDownloadApi(APIView):
    """GET: the file's bytes, re-hashed to its CID in the same pass as they are streamed (409
    before anything is sent when the bytes are gone, their size changed, or a file of at most
    FILES["VERIFY_AHEAD_BYTES"] no longer matches; a larger one that no longer matches is cut
    short before its last chunk). HEAD: the same headers from the record, no hashing (409 if the
    bytes are gone or their size changed). No ranges (`Accept-Ranges: none`): a part could not
    be checked against the CID. Open to anyone (what is uploaded is pinned to IPFS, public by
    CID), rate-limited per client IP (anonymous) or per user."""

    permission_classes = [AllowAny]
    throttle_classes = [DownloadAnonThrottle, DownloadUserThrottle]

    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        # The body is the file whatever `Accept` says; errors are still JSON.
        return super().perform_content_negotiation(request, force=True)

    @errors(409)
    @extend_schema(responses={(200, "*/*"): OpenApiResponse(OpenApiTypes.BINARY), 304: None})
    def get(self, request: Request, cid: str) -> HttpResponse:
        stored = selectors.stored_file_get(cid=cid)
        if _matches_etag(request, stored.cid):
            return _with_cache_headers(HttpResponseNotModified(), stored)
        chunks: Any = selectors.stored_file_stream_verified(stored=stored)
        if isinstance(request._request, ASGIRequest):
            chunks = _async_chunks(chunks)  # a sync iterator would be read whole into memory
        return _file_headers(
            StreamingHttpResponse(chunks, content_type=stored.content_type), stored
        )

    @errors(409)
    @extend_schema(responses={200: None, 304: None})
    def head(self, request: Request, cid: str) -> HttpResponse:
        stored = selectors.stored_file_get(cid=cid)
        if _matches_etag(request, stored.cid):
            return _with_cache_headers(HttpResponseNotModified(), stored)
        selectors.stored_file_check_present(stored=stored)
        return _file_headers(HttpResponse(content_type=stored.content_type), stored)


class FileInfoApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(responses=StoredFileOutput)
    def get(self, request: Request, cid: str) -> Response:
        return _output(selectors.stored_file_get(cid=cid), request)


async def _async_chunks(chunks: Iterator[bytes]) -> AsyncIterator[bytes]:
    """Under ASGI, Django streams only async iterators chunk by chunk (it reads a sync one into
    a list first). Each chunk is read in a worker thread; closing stops the reads and the file."""
    step = sync_to_async(next, thread_sensitive=False)
    try:
        while (chunk := await step(chunks, None)) is not None:
            yield chunk
    finally:
        await sync_to_async(chunks.close, thread_sensitive=False)()


def _matches_etag(request: Request, cid: str) -> bool:
    wanted = request.headers.get("If-None-Match", "")
    tags = {tag.strip().removeprefix("W/") for tag in wanted.split(",")}
    return f'"{cid}"' in tags or "*" in tags


def _file_headers(response: HttpResponse, stored: StoredFile) -> HttpResponse:
    response["Content-Length"] = str(stored.size)
    response["Content-Disposition"] = content_disposition_header(
        stored.content_type not in INLINE_TYPES, stored.name
    )
    response["Accept-Ranges"] = "none"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return _with_cache_headers(response, stored)


def _with_cache_headers(response: HttpResponse, stored: StoredFile) -> HttpResponse:
    # The bytes of a CID never change: cache them for good.
    response["ETag"] = f'"{stored.cid}"'
    response["Cache-Control"] = IMMUTABLE
    response["X-Ipfs-Path"] = f"/ipfs/{stored.cid}"
    return response
