"""Content types: the allow-list, and a check that the first bytes look like the declared type.

The declared type is the uploader's word; a file is served with it (and `nosniff`), so a type
the bytes contradict is refused at upload: a "PNG" that is really an HTML page, say."""

from __future__ import annotations

import codecs

HEAD_BYTES = 8192  # what the checks read

# type -> every (offset, bytes) that must be present; several lists = any one of them.
_SIGNATURES: dict[str, list[list[tuple[int, bytes]]]] = {
    "application/pdf": [[(0, b"%PDF-")]],
    "image/png": [[(0, b"\x89PNG\r\n\x1a\n")]],
    "image/jpeg": [[(0, b"\xff\xd8\xff")]],
    "image/gif": [[(0, b"GIF87a")], [(0, b"GIF89a")]],
    "image/webp": [[(0, b"RIFF"), (8, b"WEBP")]],
    "application/zip": [[(0, b"PK\x03\x04")], [(0, b"PK\x05\x06")]],
    "video/mp4": [[(4, b"ftyp")]],
}
_TEXT_TYPES = frozenset({"text/plain", "text/markdown", "text/csv", "application/json"})
INLINE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})


def content_type_normalize(declared: str | None) -> str:
    """`text/plain; charset=utf-8` -> `text/plain`; missing -> application/octet-stream."""
    media = (declared or "").split(";", 1)[0].strip().lower()
    return media or "application/octet-stream"


def content_matches_type(head: bytes, content_type: str) -> bool:
    """Whether the file's first bytes fit `content_type`. Text must be UTF-8 without NULs (a
    multi-byte character cut by the end of `head` is fine). Types with no known signature
    (added to the allow-list by configuration) are taken at their word."""
    if content_type in _TEXT_TYPES:
        return _is_utf8_text(head)
    alternatives = _SIGNATURES.get(content_type)
    if alternatives is None:
        return True
    return any(
        all(head[at : at + len(magic)] == magic for at, magic in required)
        for required in alternatives
    )


def _is_utf8_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return False
    return True
