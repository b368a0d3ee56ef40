from __future__ import annotations

import hashlib
import itertools

import factory

from files.models import StoredFile
from files.unixfs import unixfs_cid
from tests.factories import make_address

_seq = itertools.count(1)


def content(n: int | None = None) -> bytes:
    return f"deliverable {n if n is not None else next(_seq)}\n".encode()


class StoredFileFactory(factory.django.DjangoModelFactory):
    """A file record whose CID and hash are those of `data` (no bytes in storage: for reads of
    the record only; uploads go through the API)."""

    class Meta:
        model = StoredFile

    class Params:
        data = factory.LazyFunction(content)

    cid = factory.LazyAttribute(lambda o: unixfs_cid(o.data))
    sha256 = factory.LazyAttribute(lambda o: hashlib.sha256(o.data).hexdigest())
    size = factory.LazyAttribute(lambda o: len(o.data))
    name = "deliverable.txt"
    content_type = "text/plain"
    uploaded_by = factory.LazyFunction(make_address)
    storage_name = factory.LazyAttribute(lambda o: f"ipfs/{o.cid}")
