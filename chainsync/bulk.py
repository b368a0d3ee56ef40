"""Bulk SQL for the indexer's hot paths: rows inserted and updated in a few statements, straight
from tuples or instances, without the per-value work of the ORM's bulk methods. Works on SQLite
and PostgreSQL (INSERT ... ON CONFLICT, executemany)."""

from __future__ import annotations

import datetime as dt
import gc
import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from itertools import islice
from operator import attrgetter
from typing import Any, TypeVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections, models
from django.db.models import signals
from django.db.models.base import ModelState
from django.utils import timezone

from chainsync.fields import U128_DIGITS, U128_MAX, U128Field

T = TypeVar("T")
CHUNK = 500  # ids per `IN (...)`: well under SQLite's bound-parameter limit
PAGE_ROWS = 100  # rows per INSERT: 1,700 parameters at most (SQLite allows 32,766)
# Columns whose Python value (str, int, bool) is already what both drivers take: passed as is.
PLAIN = (models.CharField, models.TextField, models.IntegerField, models.BooleanField)


def preparer(field: models.Field[Any, Any], db: Any = None) -> Callable[[Any], Any] | None:
    """How a value of `field` goes to the driver: None when it goes as it is (PLAIN), else a
    function. That is the field's own get_db_prep_save on `db` (the real connection, bound once:
    default, the default database's in this thread; not the `django.db.connection` proxy, whose
    every attribute is a look-up), but for a few values whose result is known without it:
    - the u128 amounts when the value is an int in range: what U128Field itself gives
      (zero-padded text on SQLite, the int on PostgreSQL), without its validation chain;
    - keys to an auto pk when the value is an int or None: as it is;
    - on SQLite, an aware datetime in datetime.timezone.utc and a dict or list for a JSONField
      without encoder: see `_sqlite_shortcut` (tens of thousands per fetched page)."""
    if isinstance(field, PLAIN):
        return None
    db = db if db is not None else _database()

    def careful(value: Any) -> Any:
        return field.get_db_prep_save(value, db)

    if isinstance(field, models.ForeignKey) and isinstance(field.target_field, models.AutoField):
        return _int_or(careful)
    if not isinstance(field, U128Field):
        return _sqlite_shortcut(field, db, careful) or careful
    postgres = db.vendor == "postgresql"

    def u128(value: Any) -> Any:
        if type(value) is not int or not 0 <= value <= U128_MAX:
            return careful(value)
        return value if postgres else str(value).zfill(U128_DIGITS)

    return u128


def _database() -> Any:
    """The default database's connection in this thread (what the `connection` proxy stands for)."""
    return connections[DEFAULT_DB_ALIAS]


def _sqlite_shortcut(
    field: models.Field[Any, Any], db: Any, careful: Callable[[Any], Any]
) -> Callable[[Any], Any] | None:
    """On SQLite, what the field's get_db_prep_save gives for its common values, computed
    directly (None: no shortcut for this field or database), anything else through `careful`:
    - a DateTimeField (exactly, no subclass), with USE_TZ and the connection's time zone UTC:
      an aware datetime whose tzinfo is datetime.timezone.utc is made naive in UTC (the same
      wall time) and stored as str() of it, which is what adapt_datetimefield_value does;
    - a JSONField (exactly) without encoder: a dict or list (exact types) is json.dumps(value),
      which is what get_prep_value (a no-op for them) then adapt_json_value(value, None) give."""
    if db.vendor != "sqlite":
        return None
    if type(field) is models.DateTimeField and settings.USE_TZ and db.timezone is dt.UTC:

        def moment(value: Any) -> Any:
            if type(value) is dt.datetime and value.tzinfo is dt.UTC:
                return str(value.replace(tzinfo=None))
            return careful(value)

        return moment
    if type(field) is models.JSONField and field.encoder is None:

        def document(value: Any) -> Any:
            if type(value) is dict or type(value) is list:
                return json.dumps(value)
            return careful(value)

        return document
    return None


def _int_or(careful: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """A key to an auto pk: an int (or None) goes as it is, as the target field would give it."""

    def key(value: Any) -> Any:
        return value if value is None or type(value) is int else careful(value)

    return key


def _prepared(row: tuple[Any, ...], preparers: list[tuple[int, Callable[[Any], Any]]]) -> Any:
    """`row` with the values at the preparers' indexes prepared (the row itself if none)."""
    if not preparers:
        return row
    out = list(row)
    for i, prepare in preparers:
        out[i] = prepare(out[i])
    return out


def rows_insert(
    model: type[Any],
    names: list[str],
    rows: list[tuple[Any, ...]],
    *,
    conflict: list[str] | None = None,
    update: list[str] | None,
    returning: bool = False,
) -> list[int]:
    """INSERT new rows, given as tuples of the fields `names` (Python values), a hundred per
    statement: ON CONFLICT (`conflict`) DO UPDATE SET `update`, or DO NOTHING (any conflict)
    when `update` is empty, or a plain INSERT when it is None. The model's other fields (but
    the pk) take their default, or now for auto_now(_add). Plain columns go as they are and the
    others (JSON, datetimes, u128) are prepared by their field: no model instance and no SQL
    compiler per value, as `bulk_create` would (building the rows is most of the CPU of storing
    a fetched page). With `returning` (a plain INSERT only), the new rows' pks, in `rows`'
    order: sorted per statement, as a multi-row INSERT numbers its rows in VALUES order on
    SQLite and PostgreSQL both, whatever order RETURNING lists them in."""
    assert not returning or update is None, "rows skipped by ON CONFLICT have no pk to return"
    if not rows:
        return []
    db = _database()
    meta, quote = model._meta, db.ops.quote_name
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
            db,
        )
        for f in rest
    ]
    execute = _Executor(db)
    columns = ", ".join(quote(f.column) for f in given + rest)
    marks = ", ".join([execute.mark] * (len(given) + len(rest)))
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
    tail = f" RETURNING {quote(meta.pk.column)}" if returning else ""
    preparers = [(i, p) for i, f in enumerate(given) if (p := preparer(f, db)) is not None]
    pks: list[int] = []
    for start in range(0, len(rows), PAGE_ROWS):
        chunk = rows[start : start + PAGE_ROWS]
        values = ", ".join([row_marks] * len(chunk))
        sql = f"INSERT INTO {table} ({columns}) VALUES {values}{action}{tail}"  # noqa: S608
        params: list[Any] = []
        for row in chunk:
            params += _prepared(row, preparers)
            params += constants
        fetched = execute(sql, params, fetch=returning)
        if returning:
            pks += sorted(pk for (pk,) in fetched)
    return pks


class _Executor:
    """Runs one statement (written with `mark` for its parameters) and gives its rows if asked.

    Through Django's cursor (`%s`), as everywhere else, but on SQLite when nobody watches the
    statements (no execute wrapper, no query log: assertNumQueries, DEBUG, the benches' SQL
    timers): then the statement is written with `?` and run on the sqlite3 connection's own
    cursor. Django's cursor would rewrite each `%s` to `?` with a regex over the whole
    statement (1,700 placeholders in a full INSERT: a twentieth of storing a fetched page);
    the rest of what it does is kept: the thread-sharing and broken-transaction checks, and
    sqlite3's errors turned into Django's (IntegrityError...). It is the same connection, so
    the statement runs in the current transaction (atomic, savepoints) as before."""

    def __init__(self, db: Any) -> None:
        self.db = db
        db.validate_thread_sharing()
        db.ensure_connection()
        self.raw = db.vendor == "sqlite" and not db.execute_wrappers and not db.queries_logged
        self.mark = "?" if self.raw else "%s"

    def __call__(self, sql: str, params: list[Any], *, fetch: bool = False) -> list[Any]:
        if not self.raw:
            with self.db.cursor() as cursor:
                cursor.execute(sql, params)
                return cursor.fetchall() if fetch else []
        self.db.validate_no_broken_transaction()
        with self.db.wrap_database_errors:
            cursor = self.db.connection.cursor()
            try:
                cursor.execute(sql, params)
                return cursor.fetchall() if fetch else []
            finally:
                cursor.close()


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection inside (as it was on the way out: a collection may follow).
    A batch allocates tens of thousands of short-lived objects (rows, dicts, instances), freed
    by reference counting when it ends; each allocation threshold crossed meanwhile would make
    the collector walk the young objects again, and the whole long-lived heap (Django, the
    apps) now and then: a fifth of the apply's CPU. Garbage cycles made inside wait for the
    next collection after it, so memory stays bounded by one batch."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


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
    if _init_listened(model):
        return model(*args)
    return _built(model, _attnames(model), args, db=None)


def instances_read(query: models.QuerySet[Any]) -> list[Any]:
    """The rows of `query` as stored model instances, like iterating it, but read as value
    tuples and built by `_built`: a third of the time for the projection rows a batch loads."""
    model, db = query.model, query.db
    names = _attnames(model)
    if _init_listened(model):
        return list(query)
    return [_built(model, names, values, db=db) for values in query.values_list(*names)]


_ATTNAMES: dict[type[Any], list[str]] = {}


def _attnames(model: type[Any]) -> list[str]:
    """The concrete fields' attnames, in order (what Model.__init__ takes positionally)."""
    names = _ATTNAMES.get(model)
    if names is None:
        names = _ATTNAMES[model] = [f.attname for f in model._meta.concrete_fields]
    return names


def _built(model: type[Any], names: list[str], values: Any, *, db: str | None) -> Any:
    """`model(*values)` (`db`: read from that database; None: new), as Model.__init__'s
    positional path leaves it: each value in the instance's __dict__ under its attname (what
    its setattr does there, a new instance having no related object cached) and a fresh
    ModelState. Without that path's per-field loop and its pre_init/post_init signals: only
    for a model no receiver of those listens to (`_init_listened`, checked by the caller)."""
    instance = model.__new__(model)
    instance.__dict__.update(zip(names, values, strict=True))
    state = instance._state = ModelState()
    if db is not None:
        state.adding, state.db = False, db
    return instance


def _init_listened(model: type[Any]) -> bool:
    """Whether a pre_init or post_init receiver listens to `model` (none at all, usually: the
    receiver lists are looked at first)."""
    pre, post = signals.pre_init, signals.post_init
    return bool(
        (pre.receivers and pre.has_listeners(model))
        or (post.receivers and post.has_listeners(model))
    )


def instances_insert(model: type[Any], rows: list[Any]) -> None:
    """INSERT new model instances (no pk) as they are, with rows_insert, and give each its pk:
    they are then stored instances, as after `save()`."""
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    row_values = _values_getter([f.attname for f in fields])
    values = [row_values(row) for row in rows]
    pks = rows_insert(model, [f.name for f in fields], values, update=None, returning=True)
    for row, pk in zip(rows, pks, strict=True):
        row.pk = pk
        row._state.adding, row._state.db = False, connection.alias


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
    bulk_update's CASE per field or bulk_create's upsert, which run every value of every row
    through the SQL compiler."""
    if not rows:
        return
    meta, quote = model._meta, connection.ops.quote_name
    targets = [meta.get_field(name) for name in fields]
    where = meta.pk if key == "pk" else meta.get_field(key)
    sets = ", ".join(f"{quote(f.column)} = %s" for f in targets)
    sql = f"UPDATE {quote(meta.db_table)} SET {sets} WHERE {quote(where.column)} = %s"  # noqa: S608
    preparers = [(i, p) for i, f in enumerate(targets) if (p := preparer(f)) is not None]
    params = [_prepared(row, preparers) for row in rows]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def pks_update(model: type[Any], pks: list[int], **values: Any) -> None:
    """UPDATE the rows `pks` to the same `values` (plain fields), CHUNK per statement: the SQL
    written once, the ids bound as they are (a filter(pk__in=...).update() prepares each)."""
    meta, quote = model._meta, connection.ops.quote_name
    targets = [meta.get_field(name) for name in values]
    sets = ", ".join(f"{quote(f.column)} = %s" for f in targets)
    prepared = [
        value if (p := preparer(f)) is None else p(value)
        for f, value in zip(targets, values.values(), strict=True)
    ]
    where = f"{quote(meta.db_table)} SET {sets} WHERE {quote(meta.pk.column)} IN"
    for chunk in chunks(pks):
        marks = ", ".join(["%s"] * len(chunk))
        with connection.cursor() as cursor:
            cursor.execute(f"UPDATE {where} ({marks})", [*prepared, *chunk])
