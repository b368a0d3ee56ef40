"""Bulk SQL for the indexer's hot paths: rows inserted and updated in a few statements, straight
from tuples or instances, without the per-value work of the ORM's bulk methods. Works on SQLite
and PostgreSQL (INSERT ... ON CONFLICT, executemany)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any, TypeVar

from django.db import connection, models
from django.utils import timezone

T = TypeVar("T")
CHUNK = 500  # ids per `IN (...)`: well under SQLite's bound-parameter limit
PAGE_ROWS = 100  # rows per INSERT: 1,700 parameters at most (SQLite allows 32,766)
# Columns whose Python value (str, int, bool) is already what both drivers take: passed as is.
PLAIN = (models.CharField, models.TextField, models.IntegerField, models.BooleanField)


def rows_insert(
    model: type[Any],
    names: list[str],
    rows: list[tuple[Any, ...]],
    *,
    conflict: list[str] | None = None,
    update: list[str] | None,
) -> None:
    """INSERT new rows, given as tuples of the fields `names` (Python values), a hundred per
    statement: ON CONFLICT (`conflict`) DO UPDATE SET `update`, or DO NOTHING (any conflict)
    when `update` is empty, or a plain INSERT when it is None. The model's other fields (but
    the pk) take their default, or now for auto_now(_add). Plain columns go as they are and the
    others (JSON, datetimes, u128) are prepared by their field: no model instance and no SQL
    compiler per value, as `bulk_create` would (building the rows is most of the CPU of storing
    a fetched page)."""
    if not rows:
        return
    meta, quote = model._meta, connection.ops.quote_name
    given = [meta.get_field(name) for name in names]
    rest = [f for f in meta.concrete_fields if not f.primary_key and f not in given]
    now = timezone.now()
    constants = [
        f.get_db_prep_save(
            now
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
            # a callable default gives each row its own value (for rows of one statement,
            # the same value: fine for the defaults in use, [] and {})
            else f.get_default(),
            connection,
        )
        for f in rest
    ]
    columns = ", ".join(quote(f.column) for f in given + rest)
    marks = ", ".join(["%s"] * (len(given) + len(rest)))
    if update is None:
        action = ""
    elif update:
        target = ", ".join(quote(meta.get_field(name).column) for name in conflict or ())
        sets = [quote(meta.get_field(name).column) for name in update]
        action = f" ON CONFLICT ({target}) DO UPDATE SET " + ", ".join(
            f"{c} = EXCLUDED.{c}" for c in sets
        )
    else:
        action = " ON CONFLICT DO NOTHING"
    table, row_marks = quote(meta.db_table), f"({marks})"
    prepared = [(i, f) for i, f in enumerate(given) if not isinstance(f, PLAIN)]
    for start in range(0, len(rows), PAGE_ROWS):
        chunk = rows[start : start + PAGE_ROWS]
        values = ", ".join([row_marks] * len(chunk))
        sql = f"INSERT INTO {table} ({columns}) VALUES {values}{action}"  # noqa: S608
        params: list[Any] = []
        for row in chunk:
            if prepared:
                row = list(row)
                for i, f in prepared:
                    row[i] = f.get_db_prep_save(row[i], connection)
            params += row
            params += constants
        with connection.cursor() as cursor:
            cursor.execute(sql, params)


def chunks(items: Iterable[T], size: int = CHUNK) -> Iterator[list[T]]:
    """`items` in lists of `size` (ids for `IN (...)`, rows for a batch)."""
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


_TEMPLATES: dict[type[Any], tuple[list[Any], dict[str, int], list[tuple[int, Any]]]] = {}


def model_new(model: type[Any], **values: Any) -> Any:
    """`model(**values)` (by attname; the other fields take their default) through the positional
    path of Model.__init__, which skips the keyword handling: a fifth of the time it takes to
    build the thousands of new rows of a batch."""
    template = _TEMPLATES.get(model)
    if template is None:
        fields = model._meta.concrete_fields
        plain = [
            None if f.has_default() and callable(f.default) else f.get_default() for f in fields
        ]
        index = {f.attname: i for i, f in enumerate(fields)}
        called = [(i, f) for i, f in enumerate(fields) if f.has_default() and callable(f.default)]
        template = _TEMPLATES[model] = (plain, index, called)
    args, index, called = template[0].copy(), template[1], template[2]
    for i, f in called:
        args[i] = f.get_default()
    for name, value in values.items():
        args[index[name]] = value
    return model(*args)


def instances_insert(model: type[Any], rows: list[Any]) -> None:
    """INSERT new model instances (no pk) as they are, with rows_insert (pks are not read back)."""
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    values = [tuple(getattr(row, f.attname) for f in fields) for row in rows]
    rows_insert(model, [f.name for f in fields], values, update=None)


def rows_update(model: type[Any], rows: list[Any], fields: list[str]) -> None:
    """Write `fields` of these stored rows (instances with a pk), with values_update."""
    attnames = [model._meta.get_field(name).attname for name in fields]
    values = [(*(getattr(row, name) for name in attnames), row.pk) for row in rows]
    values_update(model, fields, values)


def values_update(
    model: type[Any], fields: list[str], rows: list[tuple[Any, ...]], *, key: str = "pk"
) -> None:
    """Write `fields` of stored rows given as tuples (the fields' values, then the row's `key`):
    one `UPDATE ... WHERE key = %s` run for all of them at once (executemany), each value
    prepared by its field only when the driver would not take it as it is. Much cheaper than
    bulk_update's CASE per field or bulk_create's upsert, which run every value of every row
    through the SQL compiler."""
    if not rows:
        return
    meta, quote = model._meta, connection.ops.quote_name
    targets = [meta.get_field(name) for name in fields]
    where = meta.pk if key == "pk" else meta.get_field(key)
    sets = ", ".join(f"{quote(f.column)} = %s" for f in targets)
    sql = f"UPDATE {quote(meta.db_table)} SET {sets} WHERE {quote(where.column)} = %s"  # noqa: S608
    prepared = [(i, f) for i, f in enumerate(targets) if not isinstance(f, PLAIN)]
    params = []
    for row in rows:
        if prepared:
            row = list(row)
            for i, f in prepared:
                row[i] = f.get_db_prep_save(row[i], connection)
        params.append(row)
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)
