"""Import the people-and-houses sheets communities keep: one row per person with the address columns.

The package is built in layers, each importing only the ones before it:
  * ``normalisers``: cell text to values (addresses, choices, dates, areas), no database;
  * ``parser``: the columns the sheets use and one row to a checked ``Row`` (the forms' validation);
  * ``planner``: the rows matched against the registry, as a ``Plan`` of what to create and update;
  * ``writer``: the plan written in one transaction through the shared bulk loader (core.bulk).


``plan_import(source, user)`` reads the file, validates every row through the same path as the forms
(``people.services.clean_person_data`` → ``core.validators``), looks the natural keys up in the database and
returns a ``Plan``: houses and people to create / update / leave unchanged, and every bad row (row number,
column, reason in Chinese). Nothing is written.

``commit_import(source, user)`` plans again, then in one transaction writes the plan in bulk (the rows a
form would write, with the same encrypted numbers, denormalised place keys and resident counts), checks that
everything it wrote is inside the user's scope, and records one audit event (counts and the file's SHA-256,
never personal values). Any error rolls everything back: an import is all or nothing. Re-importing the same
file changes nothing.

Natural keys: a house is (compound name, building number, unit, room); a person is their document number
(by its blind index). The compound must exist and lie where the user holds ``people.import_person``; missing
buildings and houses of such a compound are created. A person already living in another house of the
user's scope moves (the old residence ends today, it is never deleted); one registered outside the user's
scope is refused. Tags in the sheet are added, never removed (removing a vulnerable-group tag is a
deliberate act in the person's page).
"""

from people.importer.normalisers import normalise_building, normalise_room, normalise_unit
from people.importer.parser import COLUMNS, ImportError_, Row, RowError
from people.importer.planner import Plan, import_places, plan_import
from people.importer.writer import build_rows, commit_import, write_error_sheet, write_rows

__all__ = ["COLUMNS", "ImportError_", "Plan", "Row", "RowError", "build_rows", "commit_import", "import_places",
           "normalise_building", "normalise_room", "normalise_unit", "plan_import", "write_error_sheet",
           "write_rows"]
