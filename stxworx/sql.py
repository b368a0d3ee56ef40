"""Set-based SQL for the batch paths of every app: rows inserted and updated a few statements at a
time, straight from tuples, through Django's own cursor (so in the caller's transaction, watched by
assertNumQueries and the query log, errors turned into Django's). Works on SQLite and PostgreSQL
(multi-row INSERT ... ON CONFLICT ... RETURNING, executemany). Values are prepared by their field
(`get_db_prep_save`), or by the field's own fast path when it offers one (`db_preparer`)."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from itertools import islice
from operator import attrgetter
from typing import Any, TypeVar

from django.db import DEFAULT_DB_ALIAS, connections, models
from django.utils import timezone

T = TypeVar("T")
Prepare = Callable[[Any], Any]
CHUNK = 500  # ids per `IN (...)`: well under SQLite's bound-parameter limit
PAGE_ROWS = 100  # rows per INSERT: 1,700 parameters at most (SQLite allows 32,766)
# Columns whose Python value (str, int, bool) is already what both drivers take: passed as is.
PLAIN = (models.CharField, models.TextField, models.IntegerField, models.BooleanField)


def _database() -> Any:
    """The default database's connection in this thread (what the `connection` proxy stands for,
    bound once: the proxy looks the connection up on every attribute)."""
    return connections[DEFAULT_DB_ALIAS]


def preparer(field: models.Field[Any, Any], db: Any = None) -> Prepare | None:
    """How a value of `field` goes to the driver: None when it goes as it is (PLAIN), else a
    function: the field's `db_preparer(db)` when it has one (a field that knows its common values'
    result, e.g. chainsync's u128 amounts); for a key to an auto pk, an int or None as it is; else
    the field's get_db_prep_save on `db`."""
    if isinstance(field, PLAIN):
        return None
    db = db if db is not None else _database()
    own = getattr(field, "db_preparer", None)
    if own is not None:
        return own(db)

    def careful(value: Any) -> Any:
        return field.get_db_prep_save(value, db)

    if isinstance(field, models.ForeignKey) and isinstance(field.target_field, models.AutoField):

        def key(value: Any) -> Any:
            return value if value is None or type(value) is int else careful(value)

        return key
    return careful


def _prepared(row: tuple[Any, ...], preparers: list[tuple[int, Prepare]]) -> Any:
    """`row` with the values at the preparers' indexes prepared (the row itself if none)."""
    if not preparers:
        return row
    out = list(row)
    for i, prepare in preparers:
        out[i] = prepare(out[i])
    return out


def _on_conflict(
    meta: Any, quote: Any, conflict: list[str] | None, update: list[str] | None
) -> str:
    """The statement's ON CONFLICT clause: none (update None), DO NOTHING (empty), DO UPDATE."""
    if update is None:
        return ""
    if not update:
        return " ON CONFLICT DO NOTHING"
    target = ", ".join(quote(meta.get_field(name).column) for name in conflict or ())
    sets = [quote(meta.get_field(name).column) for name in update]
    return f" ON CONFLICT ({target}) DO UPDATE SET " + ", ".join(
        f"{c} = EXCLUDED.{c}" for c in sets
    )


def _constants(rest: list[Any], db: Any) -> list[Any]:
    """The prepared values of the fields a row does not give: now for auto_now(_add), else the
    default (a callable default called once per call: fine for the defaults in use, [] and {})."""
    now = timezone.now()
    return [
        f.get_db_prep_save(
            now
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
            else f.get_default(),
            db,
        )
        for f in rest
    ]


def rows_insert(
    model: type[Any],
    names: list[str],
    rows: list[tuple[Any, ...]],
    *,
    conflict: list[str] | None = None,
    update: list[str] | None,
    returning: bool = False,
    per_statement: int = PAGE_ROWS,
    prepare: dict[str, Prepare] | None = None,
) -> list[int]:
    """INSERT new rows, given as tuples of the fields `names` (Python values), `per_statement` a
    statement: ON CONFLICT (`conflict`) DO UPDATE SET `update`, or DO NOTHING (any conflict) when
    `update` is empty, or a plain INSERT when it is None. The model's other fields (but the pk)
    take their default, or now for auto_now(_add). Each value is prepared by `preparer` of its
    field, or by `prepare[name]` when given. No model instance and no SQL compiler per value, as
    `bulk_create` would. With `returning` (a plain INSERT only), the new rows' pks in `rows`'
    order: sorted per statement, as a multi-row INSERT numbers its rows in VALUES order on SQLite
    and PostgreSQL both, whatever order RETURNING lists them in."""
    assert not returning or update is None, "rows skipped by ON CONFLICT have no pk to return"
    if not rows:
        return []
    db = _database()
    meta, quote = model._meta, db.ops.quote_name
    given = [meta.get_field(name) for name in names]
    rest = [f for f in meta.concrete_fields if not f.primary_key and f not in given]
    constants = _constants(rest, db)
    columns = ", ".join(quote(f.column) for f in given + rest)
    row_marks = "(" + ", ".join(["%s"] * (len(given) + len(rest))) + ")"
    action = _on_conflict(meta, quote, conflict, update)
    tail = f" RETURNING {quote(meta.pk.column)}" if returning else ""
    prepare = prepare or {}
    preparers = [
        (i, p)
        for i, (name, f) in enumerate(zip(names, given, strict=True))
        if (p := prepare.get(name) or preparer(f, db)) is not None
    ]
    pks: list[int] = []
    for chunk in chunks(rows, per_statement):
        values = ", ".join([row_marks] * len(chunk))
        sql = f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES {values}{action}{tail}"  # noqa: S608
        params: list[Any] = []
        for row in chunk:
            params += _prepared(row, preparers)
            params += constants
        with db.cursor() as cursor:
            cursor.execute(sql, params)
            if returning:
                pks += sorted(pk for (pk,) in cursor.fetchall())
    return pks


def instances_insert(model: type[Any], rows: list[Any]) -> None:
    """INSERT new model instances (no pk) as they are, with rows_insert, and give each its pk:
    they are then stored instances, as after `save()` (or `bulk_create`)."""
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    row_values = _values_getter([f.attname for f in fields])
    values = [row_values(row) for row in rows]
    pks = rows_insert(model, [f.name for f in fields], values, update=None, returning=True)
    alias = _database().alias
    for row, pk in zip(rows, pks, strict=True):
        row.pk = pk
        row._state.adding, row._state.db = False, alias


def values_in(
    model: type[Any], columns: list[str], key: str, keys: Iterable[Any]
) -> list[tuple[Any, ...]]:
    """The `columns` of `model`'s rows whose `key` is in `keys` (a page's worth), as tuples: what
    `filter(key__in=...).values_list(...)` gives for plain columns (text and integers, no
    conversion on either database), in one SELECT written once, the keys bound as they are."""
    keys = list(keys)
    if not keys:
        return []
    db = _database()
    meta, quote = model._meta, db.ops.quote_name
    names = ", ".join(quote(meta.get_field(name).column) for name in columns)
    marks = ", ".join(["%s"] * len(keys))
    where = quote(meta.get_field(key).column)
    sql = f"SELECT {names} FROM {quote(meta.db_table)} WHERE {where} IN ({marks})"  # noqa: S608
    with db.cursor() as cursor:
        cursor.execute(sql, keys)
        return cursor.fetchall()


def rows_update(model: type[Any], rows: list[Any], fields: list[str]) -> None:
    """Write `fields` of these stored rows (instances with a pk), with values_update."""
    attnames = [model._meta.get_field(name).attname for name in fields]
    row_values = _values_getter([*attnames, "pk"])
    values_update(model, fields, [row_values(row) for row in rows])


def _values_getter(names: list[str]) -> Callable[[Any], tuple[Any, ...]]:
    """A function giving these attributes of an object as a tuple (operator.attrgetter, which
    reads them in C, gives a bare value for one name)."""
    if len(names) == 1:
        return lambda row: (getattr(row, names[0]),)
    return attrgetter(*names)


def values_update(
    model: type[Any], fields: list[str], rows: list[tuple[Any, ...]], *, key: str = "pk"
) -> None:
    """Write `fields` of stored rows given as tuples (the fields' values, then the row's `key`):
    one `UPDATE ... WHERE key = %s` run for all of them at once (executemany), each value
    prepared by its field only when the driver would not take it as it is. Much cheaper than
    bulk_update's CASE per field, which runs every value of every row through the compiler."""
    if not rows:
        return
    db = _database()
    meta, quote = model._meta, db.ops.quote_name
    targets = [meta.get_field(name) for name in fields]
    where = meta.pk if key == "pk" else meta.get_field(key)
    sets = ", ".join(f"{quote(f.column)} = %s" for f in targets)
    sql = f"UPDATE {quote(meta.db_table)} SET {sets} WHERE {quote(where.column)} = %s"  # noqa: S608
    preparers = [(i, p) for i, f in enumerate(targets) if (p := preparer(f, db)) is not None]
    params = [_prepared(row, preparers) for row in rows]
    with db.cursor() as cursor:
        cursor.executemany(sql, params)


def pks_update(model: type[Any], pks: list[int], **values: Any) -> None:
    """UPDATE the rows `pks` to the same `values`, CHUNK per statement: the SQL written once, the
    ids bound as they are (a filter(pk__in=...).update() prepares each)."""
    db = _database()
    meta, quote = model._meta, db.ops.quote_name
    targets = [meta.get_field(name) for name in values]
    sets = ", ".join(f"{quote(f.column)} = %s" for f in targets)
    prepared = [
        value if (p := preparer(f, db)) is None else p(value)
        for f, value in zip(targets, values.values(), strict=True)
    ]
    where = f"{quote(meta.db_table)} SET {sets} WHERE {quote(meta.pk.column)} IN"
    for chunk in chunks(pks):
        marks = ", ".join(["%s"] * len(chunk))
        with db.cursor() as cursor:
            cursor.execute(f"UPDATE {where} ({marks})", [*prepared, *chunk])


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection inside (as it was on the way out: a collection may follow).
    A batch allocates tens of thousands of short-lived objects (rows, dicts, instances), freed
    by reference counting when it ends; each allocation threshold crossed meanwhile would make
    the collector walk the young objects again, and the whole long-lived heap (Django, the
    apps) now and then. Garbage cycles made inside wait for the next collection after it, so
    memory stays bounded by one batch."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def chunks(items: Iterable[T], size: int = CHUNK) -> Iterator[list[T]]:
    """`items` in lists of `size` (ids for `IN (...)`, rows for a statement or a batch)."""
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk
