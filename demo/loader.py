"""Fast bulk loading of generated rows: the project's one bulk loader (core.bulk), with a large SQLite cache.

Rows are dicts keyed by field attname; a column a row leaves out gets the field's default, so that a field
added to a model later (with a default) does not break the demo. Ids are given by the generator (counting
from the table's current maximum), which makes them the same for the same seed on an empty database;
``reset_sequences`` then moves PostgreSQL's identity sequences past them.
"""

from __future__ import annotations

from core.bulk import BulkLoader as _BulkLoader

__all__ = ["BulkLoader"]


class BulkLoader(_BulkLoader):
    def __init__(self, using: str = "default") -> None:
        # A 512 MB page cache for the generator's connection keeps index inserts off the disk at scale 20.
        super().__init__(using, sqlite_cache_mb=512)
