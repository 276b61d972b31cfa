"""Fast bulk loading of generated rows: PostgreSQL ``COPY``, SQLite ``executemany``, both with explicit ids.

Rows are dicts keyed by field attname; a column a row leaves out gets the field's default, so that a field
added to a model later (with a default) does not break the demo. Ids are given by the generator (counting
from the table's current maximum), which makes them the same for the same seed on an empty database;
``reset_sequences`` then moves PostgreSQL's identity sequences past them.
"""

from __future__ import annotations

import datetime as dt
import json
import operator
from collections.abc import Iterable
from decimal import Decimal

from django.core.management.color import no_style
from django.db import connections, models
from django.utils import timezone

__all__ = ["BulkLoader"]

_MISSING = object()


class _Table:
    def __init__(self, model: type[models.Model], connection) -> None:
        self.model = model
        self.table = model._meta.db_table
        fields = [f for f in model._meta.concrete_fields]
        self.attnames = [f.attname for f in fields]
        qn = connection.ops.quote_name
        self.columns = ", ".join(qn(f.column) for f in fields)
        now = timezone.now()
        self.defaults = []
        for f in fields:
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                self.defaults.append(now)
            elif f.has_default():
                self.defaults.append(f.get_default())
            elif f.null or f.primary_key:
                self.defaults.append(None)
            elif f.blank and f.empty_strings_allowed:
                self.defaults.append("")
            else:
                self.defaults.append(_MISSING)
        sqlite = connection.vendor == "sqlite"
        self.converters = [self._converter(f, connection, sqlite) for f in fields]
        placeholders = ", ".join(["?" if sqlite else "%s"] * len(fields))
        self.insert_sql = f"INSERT INTO {qn(self.table)} ({self.columns}) VALUES ({placeholders})"
        self.copy_sql = f"COPY {qn(self.table)} ({self.columns}) FROM STDIN"

    @staticmethod
    def _converter(field: models.Field, connection, sqlite: bool):
        kind = field.get_internal_type()
        if kind == "JSONField":
            return lambda v: None if v is None else json.dumps(v, ensure_ascii=False)
        if not sqlite:
            return None
        if kind == "DateTimeField":
            memo: dict = {}  # the generator stamps every row with the same time

            def adapt(v):
                if v is None:
                    return None
                if v not in memo:
                    memo[v] = connection.ops.adapt_datetimefield_value(v)
                return memo[v]

            return adapt
        if kind == "DateField":
            return lambda v: v.isoformat() if isinstance(v, dt.date) else v
        if kind == "DecimalField":
            return lambda v: str(v) if isinstance(v, Decimal) else v
        return None

    def tuples(self, rows: Iterable[dict]) -> list[tuple]:
        defaults = {n: d for n, d in zip(self.attnames, self.defaults, strict=True) if d is not _MISSING}
        required = [n for n, d in zip(self.attnames, self.defaults, strict=True) if d is _MISSING]
        get = operator.itemgetter(*self.attnames)
        convs = [(i, c) for i, c in enumerate(self.converters) if c is not None]
        out = []
        for row in rows:
            if len(row) < len(self.attnames):
                for name in required:
                    if name not in row:
                        raise ValueError(f"{self.table}.{name} needs a value")
                row = {**defaults, **row}
            values = get(row)
            if convs:
                values = list(values)
                for i, conv in convs:
                    values[i] = conv(values[i])
                values = tuple(values)
            out.append(values)
        return out


class BulkLoader:
    def __init__(self, using: str = "default") -> None:
        self.using = using
        self.connection = connections[using]
        self.tables: dict[type[models.Model], _Table] = {}
        self.counts: dict[str, int] = {}
        if self.connection.vendor == "sqlite":
            # A larger page cache for this connection keeps index inserts off the disk at scale 20.
            with self.connection.cursor() as cur:
                cur.execute("PRAGMA cache_size = -524288")

    def table(self, model: type[models.Model]) -> _Table:
        if model not in self.tables:
            self.tables[model] = _Table(model, self.connection)
        return self.tables[model]

    def next_id(self, model: type[models.Model]) -> int:
        with self.connection.cursor() as cur:
            cur.execute(f"SELECT MAX(id) FROM {self.connection.ops.quote_name(model._meta.db_table)}")
            return (cur.fetchone()[0] or 0) + 1

    def insert(self, model: type[models.Model], rows: list[dict]) -> None:
        """Insert ``rows`` (inside the caller's transaction)."""
        if not rows:
            return
        t = self.table(model)
        data = t.tuples(rows)
        self.connection.ensure_connection()
        raw = self.connection.connection
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
        self.counts[key] = self.counts.get(key, 0) + len(rows)

    def reset_sequences(self, model_list: list[type[models.Model]]) -> None:
        sql = self.connection.ops.sequence_reset_sql(no_style(), model_list)
        if sql:
            with self.connection.cursor() as cur:
                for statement in sql:
                    cur.execute(statement)
