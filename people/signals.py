"""Signals the registry sends for the modules above it (people knows nothing of them; they listen).

``import_committed``: sent inside the import's transaction once its rows are written, with
``findings`` — (person id, house id, field key, row number) for every person imported with an optional field
left empty because it was invalid (a phone with an unallocated prefix...) — so that quality can raise an issue
for each, to be corrected after a visit or a call.
"""

from django.dispatch import Signal

import_committed = Signal()
