"""Personal numbers typed into free text, sealed: the one mechanism every free-text field uses.

A phone or resident ID number typed into a case's title, a visit's note, a mediation's facts... is personal data
like the numbers of the registry. ``seal_text`` finds them (``find_numbers``: mainland mobiles with or without
+86 and separators, landlines with their area code, resident IDs of 18 characters validated with stdnum's
``cn.ric`` and the old 15-digit ones), replaces each by its masked form (``138****5678``,
``110101********1234``, ``0512****1234``; never longer than the number as typed) and returns the clear values
(as typed) sealed with ``core.crypto.seal``, bound to the row (its ``seal_id``), the column ``sealed_numbers``,
the field's path and the mask: ``sealed_numbers.<path>#<mask>``. An entry copied to another row, another field or
another number's place does not open there.

The masked number is the token: it is shown as it is everywhere (pages, PDFs, API, Open311, exports) and
comes back unchanged when a form holding the text is submitted again. Each sealed value is stored as
``[k, mask, ciphertext]``: the ``k``-th masked-looking token of the text, its mask (checked when unsealing),
its ciphertext. Re-sealing an edited text maps the masked tokens still present to their old values (same mask,
in order) and drops the values whose token was deleted; new clear numbers are sealed.

``SealedRow`` (abstract) is every model holding sealed values: it adds ``seal_id``, the row's identity in the
associated data (random, set before the insert: by Python for the ORM and the bulk loaders, by the database
for rows written in SQL), and ``seal_field`` / ``open_field`` for its ``*_enc`` columns and the ``*_enc`` keys
of its ``sealed_json`` fields. ``SealedTextModel`` (abstract, a ``SealedRow``) adds the ``sealed_numbers`` JSON
column and seals its ``sealed_fields`` on every ``save()``; ``sealed_update(**values)`` gives the same for a
``QuerySet.update``. A path may name a key of a JSON field (``"payload.text"``). ``reveal_text`` restores the clear
text for a user holding ``people.reveal_person`` on the record's place, with a reason, and writes the audit (action
``reveal``).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import uuid
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from stdnum.cn import ric

from core import crypto

__all__ = ["Found", "REVEAL_PERM", "RandomUUID", "SealedRow", "SealedTextModel", "UNREADABLE", "find_numbers",
           "mask_text", "reseal_entries", "reveal_text", "seal_text", "sealed_models", "unseal_text"]

log = logging.getLogger("renfang.crypto")
UNREADABLE = gettext_lazy("无法解密")  # shown instead of a value that does not open where it is read

REVEAL_PERM = "people.reveal_person"  # the permission that reveals every personal number

_SEP = r"[ \-]?"
# Searched in ``_half_width(text)`` (same length: full-width digits, letters, +, -, ( ) and the ideographic
# space mapped to ASCII), so the positions found are the positions in the text.
_NUMBER = re.compile(
    r"(?P<id18>(?<!\d)\d{6} ?\d{8} ?\d{3}[\dXx](?![\dXx]))"
    r"|(?P<mobile>(?<![\d+])(?:(?:\+|00)?86" + _SEP + r")?1[3-9]\d" + _SEP + r"\d{4}" + _SEP + r"\d{4}(?!\d))"
    r"|(?P<landline>(?<![\d+])(?:(?:\+|00)86" + _SEP + r")?\(?0(?:10|2\d|[3-9]\d{2})\)?" + _SEP
    + r"[2-8]\d{6,7}(?!\d))"
    r"|(?P<id15>(?<!\d)\d{15}(?![\dXx]))",
    re.ASCII,
)
_HALF = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)} | {0x3000: 0x20, 0x2010: 0x2D, 0x2011: 0x2D, 0x2012: 0x2D,
                                                         0x2013: 0x2D, 0x2014: 0x2D, 0x2212: 0x2D}


def _half_width(text: str) -> str:
    return text.translate(_HALF)


# The masked shapes this module writes (the tokens of a sealed text).
_MASKED = re.compile(
    r"(?<![\d*])(?:\d{6}\*{8}\d{3}[\dX]|1[3-9]\d\*{4}\d{4}|0\d{2,3}\*{3,4}\d{4}|\d{6}\*{6}\d{3})(?![\d*])",
    re.ASCII)


@dataclass(frozen=True)
class Found:
    start: int
    end: int
    kind: str  # "id" (18 characters), "id15", "mobile", "landline"
    value: str  # normalised: half-width digits, no separators, no +86
    mask: str
    valid: bool = True  # for "id": stdnum's check character matches
    raw: str = ""  # as typed (what a reveal gives back)


def _plain(text: str) -> str:
    return re.sub(r"[ \-()]", "", _half_width(text)).upper()


def _birth_ok(year: int, month: int, day: int) -> bool:
    try:
        born = dt.date(year, month, day)
    except ValueError:
        return False
    return dt.date(1880, 1, 1) <= born <= dt.date.today()


def _classify(kind: str, raw: str) -> Found | None:
    value = _plain(raw)
    if kind == "id18":
        if not _birth_ok(int(value[6:10]), int(value[10:12]), int(value[12:14])):
            return None  # 18 digits, but no birth date in them: an order or account number
        # GB 11643's check character (stdnum's cn.ric); a mistyped ID is still someone's ID: sealed either way.
        valid = value[17] == ric.calc_check_digit(value)
        return Found(0, 0, "id", value, value[:6] + "*" * 8 + value[-4:], valid)
    if kind == "id15":
        if not _birth_ok(1900 + int(value[6:8]), int(value[8:10]), int(value[10:12])):
            return None
        return Found(0, 0, "id15", value, value[:6] + "*" * 6 + value[-3:])
    if kind == "mobile":
        value = value[-11:]  # without +86 / 0086 / 86
        return Found(0, 0, "mobile", value, value[:3] + "****" + value[-4:])
    value = value[value.index("0"):] if not value.startswith("0") else value  # without +86
    area = 3 if value[1] in "12" else 4
    local = value[area:]
    return Found(0, 0, "landline", value, value[:area] + "*" * (len(local) - 4) + local[-4:])


def find_numbers(text: str) -> list[Found]:
    """The personal numbers in ``text``, in order, none inside a longer run of digits."""
    out = []
    for m in _NUMBER.finditer(_half_width(text or "")):
        found = _classify(m.lastgroup, m.group())
        if found is not None:
            out.append(Found(m.start(), m.end(), found.kind, found.value, found.mask, found.valid,
                             text[m.start():m.end()]))
    return out


def mask_text(text: str) -> str:
    """``text`` with every personal number masked, nothing kept (logs, copies of a text sealed elsewhere)."""
    found = find_numbers(text)
    for f in reversed(found):
        text = text[:f.start] + f.mask + text[f.end:]
    return text


def _seal_one(value: str, table: str, column: str, row) -> str:
    if row is None:  # a data migration's historical model from before seal_id: v1, re-sealed by rotate_keys
        return crypto.get_keyring().encrypt(value)
    return crypto.seal(value, table=table, column=column, row=row)


def seal_text(text: str, previous=(), *, table: str, column: str, row) -> tuple[str, list[list]]:
    """(masked text, sealed values) of ``text``; ``previous`` are the sealed values of the text it replaces.
    Each value is bound to ``table``, ``column`` (``sealed_numbers.<path>``) and its mask, and ``row``."""
    text = text or ""
    found = find_numbers(text)
    if not found and not previous:
        return text, []
    new_at: dict[int, Found] = {}
    out, pos, shift = [], 0, 0
    for f in found:
        out.append(text[pos:f.start])
        new_at[f.start + shift] = f
        out.append(f.mask)
        shift += len(f.mask) - (f.end - f.start)
        pos = f.end
    out.append(text[pos:])
    masked = "".join(out)
    old = [list(e) for e in previous or ()]
    entries = []
    for k, m in enumerate(_MASKED.finditer(masked)):
        f = new_at.get(m.start())
        if f is not None and f.mask == m.group():
            entries.append([k, f.mask, _seal_one(f.raw, table, f"{column}#{f.mask}", row)])
            continue
        for i, (_k, mask, token) in enumerate(old):
            if mask == m.group():
                entries.append([k, mask, token])
                del old[i]
                break
    return masked, entries


def unseal_text(text: str, entries, *, table: str, column: str, row) -> str:
    """The clear text of a sealed text (callers check the permission and write the audit: ``reveal_text``).
    A value that does not open here (copied from elsewhere) stays masked, followed by ``UNREADABLE``."""
    by_k = {int(k): (mask, token) for k, mask, token in entries or ()}
    if not by_k:
        return text or ""

    counter = iter(range(10 ** 9))

    def put(m):
        k = next(counter)
        hit = by_k.get(k)
        if hit is None or hit[0] != m.group():
            return m.group()
        try:
            return crypto.open(hit[1], table=table, column=f"{column}#{hit[0]}", row=row)
        except crypto.Unreadable:
            return f"{m.group()}[{UNREADABLE}]"

    return _MASKED.sub(put, text or "")


# --- the model side -------------------------------------------------------------------------------------------
def _get(obj, path: str):
    name, _dot, key = path.partition(".")
    value = getattr(obj, name)
    if key:
        return value.get(key) if isinstance(value, dict) else None
    return value


def _set(obj, path: str, value) -> None:
    name, _dot, key = path.partition(".")
    if key:
        setattr(obj, name, {**(getattr(obj, name) or {}), key: value})
    else:
        setattr(obj, name, value)


class RandomUUID(models.Func):
    """A random UUID made by the database: ``seal_id``'s default for rows inserted in SQL (and for the rows that
    exist when the column is added: each gets its own). SQLite stores a UUIDField as 32 hex digits."""

    output_field = models.UUIDField()
    allowed_default = True

    def as_sql(self, compiler, connection, **extra_context):
        return "lower(hex(randomblob(16)))", []

    def as_postgresql(self, compiler, connection, **extra_context):
        return "gen_random_uuid()", []


class SealedRow(models.Model):
    """A model holding sealed values (core.crypto v2 tokens bound to its table, the column and ``seal_id``).

    Its sealed values: every text field named ``*_enc``, the ``*_enc`` keys of its ``sealed_json`` fields, and
    (``SealedTextModel``) the entries of ``sealed_numbers``. ``manage.py rotate_keys`` finds them here."""

    sealed_json: tuple[str, ...] = ()  # JSON fields whose keys named *_enc hold sealed values (a change's payload)

    seal_id = models.UUIDField(gettext_lazy("密封标识"), default=uuid.uuid4, db_default=RandomUUID(), editable=False,
                               help_text=gettext_lazy("本行密文绑定的随机标识；复制到别处的密文无法解密"))

    class Meta:
        abstract = True

    @classmethod
    def enc_fields(cls) -> list[str]:
        return [f.name for f in cls._meta.concrete_fields
                if f.name.endswith("_enc") and isinstance(f, models.TextField)]

    def seal_field(self, column: str, value: str) -> str:
        """``value`` sealed for ``column`` of this row (``"payload.id_number_enc"`` for a key of a JSON field);
        empty for an empty value."""
        if not value:
            return ""
        return crypto.seal(value, table=self._meta.db_table, column=column, row=self.seal_id)

    def open_field(self, column: str, token: str | None = None) -> str:
        """The clear value of ``column`` (or of ``token`` read from it); ``crypto.Unreadable`` when the value was
        sealed for another place. Callers check the permission and audit."""
        if token is None:
            name, _dot, key = column.partition(".")
            token = _get(self, column) if key else getattr(self, name)
        if not token:
            return ""
        return crypto.open(token, table=self._meta.db_table, column=column, row=self.seal_id)

    def open_or_marker(self, column: str, token: str | None = None) -> str:
        """``open_field`` for display: ``UNREADABLE`` (logged) instead of an error."""
        try:
            return self.open_field(column, token)
        except crypto.Unreadable:
            return str(UNREADABLE)


def sealed_models() -> list[type[SealedRow]]:
    """Every installed model holding sealed values."""
    from django.apps import apps

    return [m for m in apps.get_models() if issubclass(m, SealedRow)]


def reseal_entries(entries, src: SealedRow, src_path: str, dst: SealedRow, dst_path: str) -> list[list]:
    """The sealed values of ``src``'s text ``src_path`` sealed again for ``dst``'s ``dst_path`` (a text copied
    from one record to another keeps its numbers; a token itself never moves)."""
    out = []
    for k, mask, token in entries or ():
        try:
            value = crypto.open(token, table=src._meta.db_table, column=f"sealed_numbers.{src_path}#{mask}",
                                row=src.seal_id)
        except crypto.Unreadable:
            continue  # logged by crypto.open; the copy keeps the masked number only
        out.append([k, mask, crypto.seal(value, table=dst._meta.db_table, column=f"sealed_numbers.{dst_path}#{mask}",
                                         row=dst.seal_id)])
    return out


class SealedTextModel(SealedRow):
    """A model whose ``sealed_fields`` (free text typed by staff or residents) never hold a number in clear."""

    sealed_fields: tuple[str, ...] = ()
    sealed_numbers = models.JSONField(gettext_lazy("文本中的号码(密文)"), default=dict, blank=True, editable=False,
                                      help_text=gettext_lazy("自由文本中的证件号、电话的密文；文本只存脱敏号码"))

    class Meta:
        abstract = True

    def seal_numbers(self, paths=None) -> None:
        """Seal the numbers of the given (default: all) sealed fields in place."""
        store = dict(self.sealed_numbers or {})
        for path in paths or self.sealed_fields:
            text = _get(self, path)
            if not isinstance(text, str):
                continue
            masked, entries = seal_text(text, store.get(path, ()), table=self._meta.db_table,
                                        column=f"sealed_numbers.{path}", row=self.seal_id)
            if masked != text:
                _set(self, path, masked)
            if entries:
                store[path] = entries
            else:
                store.pop(path, None)
        self.sealed_numbers = store

    def save(self, *args, **kwargs):
        update_fields = kwargs.get("update_fields")
        if update_fields is None:
            self.seal_numbers()
        else:
            names = set(update_fields)
            paths = [p for p in self.sealed_fields if p.partition(".")[0] in names]
            if paths:
                self.seal_numbers(paths)
                kwargs["update_fields"] = names | {"sealed_numbers"}
        super().save(*args, **kwargs)

    def sealed_update(self, **values) -> dict:
        """``values`` for ``QuerySet.update()`` with the sealed fields among them masked and ``sealed_numbers``
        merged; also set on this instance."""
        names = {p.partition(".")[0] for p in self.sealed_fields}
        touched = [name for name in values if name in names]
        if not touched:
            return values
        for name in touched:
            setattr(self, name, values[name])
        paths = [p for p in self.sealed_fields if p.partition(".")[0] in touched]
        self.seal_numbers(paths)
        return {**values, **{name: getattr(self, name) for name in touched}, "sealed_numbers": self.sealed_numbers}

    def unsealed(self, path: str) -> str:
        """Clear text of one sealed field (callers check the permission and audit: ``reveal_text``)."""
        return unseal_text(_get(self, path) or "", (self.sealed_numbers or {}).get(path, ()),
                           table=self._meta.db_table, column=f"sealed_numbers.{path}", row=self.seal_id)

    def has_sealed(self, path: str | None = None) -> bool:
        store = self.sealed_numbers or {}
        return bool(store.get(path)) if path else any(store.values())

    def sealed_scope_object(self):
        """The record whose place decides who may reveal (a case for its events, a mediation for its sessions)."""
        return self


def reveal_text(user, obj: SealedTextModel, path: str, purpose: str) -> str:
    """The clear text of ``obj``'s sealed field ``path``, for a user who sees the record and holds
    ``people.reveal_person`` on its place, with a reason of at least 4 characters; audited either way."""
    from core import audit
    from core.querysets import scope_q
    from core.scope import scope_for

    purpose = (purpose or "").strip()
    if path not in obj.sealed_fields:
        raise ValueError(path)
    target = obj.sealed_scope_object()
    model = type(target)
    label = f"{obj._meta.label_lower}.{path}"
    visible = getattr(model.objects, "restrict", None) is not None and \
        model.objects.restrict(user, "view").filter(pk=target.pk).exists()
    places = scope_for(user).places_for(REVEAL_PERM) if user is not None and user.is_authenticated else None
    allowed = visible and places is not None and \
        model._base_manager.filter(scope_q(model, places, user.pk), pk=target.pk).exists()
    if not allowed:
        audit.record("reveal", target, user=user, fields=[label], result="denied", purpose=purpose[:300])
        raise PermissionDenied(_("您没有查看完整号码的权限"))
    if len(purpose) < 4:
        raise ValidationError({"purpose": [_("请填写查看完整号码的事由（至少4个字）")]})
    audit.record("reveal", target, user=user, fields=[label], purpose=purpose[:300])
    return obj.unsealed(path)


def seal_rows(model, paths, batch: int = 500) -> int:
    """Seal the numbers of existing rows of ``model`` (a data migration's historical model too); returns how many
    rows changed. On SQLite the replaced pages may keep the old bytes until ``VACUUM``."""
    changed = 0
    names = sorted({p.partition(".")[0] for p in paths})
    for obj in model._base_manager.order_by("pk").iterator(chunk_size=batch):
        store = dict(obj.sealed_numbers or {})
        dirty = False
        for path in paths:
            text = _get(obj, path)
            if not isinstance(text, str) or not find_numbers(text):
                continue
            masked, entries = seal_text(text, store.get(path, ()), table=model._meta.db_table,
                                        column=f"sealed_numbers.{path}", row=getattr(obj, "seal_id", None))
            _set(obj, path, masked)
            store[path] = entries
            dirty = True
        if dirty:
            obj.sealed_numbers = store
            model._base_manager.filter(pk=obj.pk).update(sealed_numbers=store,
                                                         **{n: getattr(obj, n) for n in names})
            changed += 1
    return changed


def seal_rows_operation(app_label: str, fields: dict[str, tuple[str, ...]]):
    """A migration operation sealing the existing rows of ``{model_name: sealed paths}``."""
    from django.db import migrations

    def forward(apps, schema_editor):
        for model_name, paths in fields.items():
            seal_rows(apps.get_model(app_label, model_name), paths)

    return migrations.RunPython(forward, migrations.RunPython.noop, elidable=True)
