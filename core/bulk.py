"""One bulk loader for every mass write: PostgreSQL ``COPY``, SQLite ``executemany``, both with explicit ids.

Used by the demo generator (demo/loader.py) and the people import (people/importer/writer.py). Rows are dicts
keyed by field attname; the columns are the model's concrete fields, read from the model, never kept by hand:
a column a row leaves out gets the field's default (``auto_now`` fields: the loader's time; nullable fields:
NULL; blank text fields: ""), and a field that has none of these (a NOT NULL field added to a model later)
makes ``tuples`` raise ``ValueError`` naming it instead of writing a broken row.

Ids are the caller's: ``allocate_ids`` reserves them inside the caller's transaction (PostgreSQL's sequence;
SQLite's current maximum), the demo generator counts from ``next_id``; ``reset_sequences`` then moves
PostgreSQL's identity sequences past ids written by hand.
"""

from __future__ import annotations

import datetime as dt
import json
import operator
import uuid
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from typing import Any

from django.core.management.color import no_style
from django.db import connections, models
from django.utils import timezone

__all__ = ["BulkLoader", "BulkTable"]

_MISSING = object()
_PER_ROW = object()  # a callable default drawn for each row (a UUID identity)


class BulkTable:
    """How one model's rows are written: its columns (every concrete field, in model order) and conversions."""

    def __init__(self, model: type[models.Model], connection) -> None:
        self.model = model
        self.table = model._meta.db_table
        fields = list(model._meta.concrete_fields)
        self.fields = fields
        self.attnames = [f.attname for f in fields]
        self.column_names = [f.column for f in fields]
        qn = connection.ops.quote_name
        self.columns = ", ".join(qn(f.column) for f in fields)
        now = timezone.now()
        self.defaults: list[Any] = []
        for f in fields:
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                self.defaults.append(now)
            elif f.has_default() and callable(f.default) and isinstance(f, models.UUIDField):
                self.defaults.append(_PER_ROW)  # a row's own random identity (seal_id): never one value for all
            elif f.has_default():
                self.defaults.append(f.get_default())
            elif f.null or f.primary_key:
                self.defaults.append(None)
            elif f.blank and f.empty_strings_allowed:
                self.defaults.append("")
            else:
                self.defaults.append(_MISSING)
        self.required = [n for n, d in zip(self.attnames, self.defaults, strict=True) if d is _MISSING]
        self.per_row = [(n, f.default) for n, d, f in zip(self.attnames, self.defaults, fields, strict=True)
                        if d is _PER_ROW]
        sqlite = connection.vendor == "sqlite"
        self.converters = [self._converter(f, connection, sqlite) for f in fields]
        placeholders = ", ".join(["?" if sqlite else "%s"] * len(fields))
        self.insert_sql = f"INSERT INTO {qn(self.table)} ({self.columns}) VALUES ({placeholders})"  # noqa: S608
        self.copy_sql = f"COPY {qn(self.table)} ({self.columns}) FROM STDIN"

    @staticmethod
    def _converter(field: models.Field, connection, sqlite: bool):
        kind = field.get_internal_type()
        if kind == "JSONField":
            return lambda v: None if v is None else json.dumps(v, ensure_ascii=False)
        if not sqlite:
            return None
        if kind == "UUIDField":  # SQLite stores 32 hex digits (what the ORM writes)
            return lambda v: v.hex if isinstance(v, uuid.UUID) else v
        if kind == "DateTimeField":
            memo: dict = {}  # rows written together share their time stamps

            def adapt(v):
                if v is None:
                    return None
                hit = memo.get(v)
                if hit is None:
                    hit = memo[v] = connection.ops.adapt_datetimefield_value(v)
                return hit

            return adapt
        if kind == "DateField":
            return lambda v: v.isoformat() if isinstance(v, dt.date) else v
        if kind == "DecimalField":
            return lambda v: str(v) if isinstance(v, Decimal) else v
        return None

    def tuples(self, rows: Iterable[dict]) -> list[tuple]:
        """The rows as value tuples in column order, defaults filled in, values adapted for the database."""
        defaults = {n: d for n, d in zip(self.attnames, self.defaults, strict=True)
                    if d is not _MISSING and d is not _PER_ROW}
        required, per_row = self.required, self.per_row
        width = len(self.attnames)
        get = operator.itemgetter(*self.attnames)
        convs = [(i, c) for i, c in enumerate(self.converters) if c is not None]
        out = []
        for row in rows:
            if len(row) < width:
                for name in required:
                    if name not in row:
                        raise ValueError(f"{self.table}.{name} needs a value")
                row = {**defaults, **row}
                for name, make in per_row:
                    if name not in row:
                        row[name] = make()
            values = get(row)
            if convs:
                values = list(values)
                for i, conv in convs:
                    values[i] = conv(values[i])
                values = tuple(values)
            out.append(values)
        return out

    def maker(self, names: Sequence[str], constants: dict[str, Any] | None = None) -> Callable[[tuple], tuple]:
        """A function from a value tuple (the values of ``names``, in that order) to the row ``tuples`` writes for
        ``{**constants, **dict(zip(names, values))}``: the same columns, defaults and conversions, without a dict
        per row. The constants and defaults are adapted once; a column without a default that neither the names
        nor the constants give raises ``ValueError`` naming it (as ``tuples`` does), here, before any row."""
        constants = constants or {}
        given = {n: i for i, n in enumerate(names)}
        fixed: list[Any] = []
        index: list[int] = []
        convs: list[tuple[int, Callable[[Any], Any]]] = []
        for attname, default, conv in zip(self.attnames, self.defaults, self.converters, strict=True):
            if attname in given:
                index.append(given[attname])
                if conv is not None:
                    convs.append((given[attname], conv))
                continue
            value = constants.get(attname, default)
            if value is _MISSING or value is _PER_ROW:
                raise ValueError(f"{self.table}.{attname} needs a value" + (" per row" if value is _PER_ROW else ""))
            index.append(len(given) + len(fixed))
            fixed.append(conv(value) if conv is not None else value)
        rest = tuple(fixed)
        get = operator.itemgetter(*index)
        if len(index) == 1:
            def get(values, _get=get):
                return (_get(values),)
        if not convs:
            return lambda values: get(values + rest)

        def make(values: tuple) -> tuple:
            values = list(values)
            for i, conv in convs:
                values[i] = conv(values[i])
            return get((*values, *rest))

        return make


class BulkLoader:
    """``loader.insert(Model, [row dict, ...])`` inside the caller's transaction."""

    def __init__(self, using: str = "default", *, sqlite_cache_mb: int = 0) -> None:
        self.using = using
        self.connection = connections[using]
        self.tables: dict[type[models.Model], BulkTable] = {}
        self.counts: dict[str, int] = {}
        if sqlite_cache_mb and self.connection.vendor == "sqlite":
            # A larger page cache for this connection keeps index inserts off the disk at large scales.
            with self.connection.cursor() as cur:
                cur.execute(f"PRAGMA cache_size = -{int(sqlite_cache_mb) * 1024}")

    def table(self, model: type[models.Model]) -> BulkTable:
        if model not in self.tables:
            self.tables[model] = BulkTable(model, self.connection)
        return self.tables[model]

    def next_id(self, model: type[models.Model]) -> int:
        with self.connection.cursor() as cur:
            cur.execute(f"SELECT MAX(id) FROM {self.connection.ops.quote_name(model._meta.db_table)}")  # noqa: S608
            return (cur.fetchone()[0] or 0) + 1

    def allocate_ids(self, model: type[models.Model], n: int) -> list[int]:
        """Reserve ``n`` primary keys (inside the caller's transaction: SQLite's write lock keeps them ours)."""
        if n <= 0:
            return []
        table = model._meta.db_table
        with self.connection.cursor() as cur:
            if self.connection.vendor == "postgresql":
                # The sequence looked up once (per row, its catalog lookup cost more than the nextval), and one
                # row holding every id (an array), not n rows.
                cur.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
                sequence = cur.fetchone()[0]
                cur.execute("SELECT array_agg(nextval(%s::regclass)) FROM generate_series(1, %s)", [sequence, n])
                return list(cur.fetchone()[0])
            cur.execute(f"SELECT COALESCE(MAX(id), 0) FROM {self.connection.ops.quote_name(table)}")  # noqa: S608
            start = cur.fetchone()[0] + 1
        return list(range(start, start + n))

    def insert(self, model: type[models.Model], rows: list[dict]) -> None:
        """Insert ``rows`` (dicts keyed by attname)."""
        if rows:
            self.insert_tuples(model, self.table(model).tuples(rows))

    def insert_tuples(self, model: type[models.Model], data: list[tuple]) -> None:
        """Insert rows already converted by ``table(model).tuples`` (what a benchmark's raw baseline loads)."""
        if not data:
            return
        t = self.table(model)
        self.connection.ensure_connection()
        raw = self.connection.connection
        with self.connection.wrap_database_errors:  # driver errors as django.db errors (IntegrityError...)
            if self.connection.vendor == "postgresql":
                with raw.cursor() as cur, cur.copy(t.copy_sql) as copy:
                    for row in data:
                        copy.write_row(row)
            else:
                cur = raw.cursor()
                try:
                    cur.executemany(t.insert_sql, data)
                finally:
                    cur.close()
        key = model._meta.label
        self.counts[key] = self.counts.get(key, 0) + len(data)

    def reset_sequences(self, model_list: list[type[models.Model]]) -> None:
        sql = self.connection.ops.sequence_reset_sql(no_style(), model_list)
        if sql:
            with self.connection.cursor() as cur:
                for statement in sql:
                    cur.execute(statement)
