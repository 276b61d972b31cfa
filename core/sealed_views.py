"""The reveal of sealed free text on a record's page (core.sealed): a small "查看完整号码" control beside each
text holding sealed numbers, asking for a reason; the POST shows that field's clear text once, in that response
only (never stored, never in a URL), through ``core.sealed.reveal_text`` (permission checked, audited).

A detail view puts ``sealed_reveal`` (``reveal_context``) into its context and POSTs to its own reveal URL;
``handle_reveal`` answers that POST. In templates: ``{% load sealed %}{% reveal_text obj "field" %}``.
A target is named ``<model_name>:<pk>:<field>`` and must belong to the record of the page (``targets``).
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from core.sealed import REVEAL_PERM, SealedTextModel, reveal_text

__all__ = ["RevealTextForm", "handle_reveal", "may_reveal", "reveal_context", "target_key"]


class RevealTextForm(forms.Form):
    target = forms.RegexField(regex=r"^[a-z_]+:\d+:[a-z_.]+$", max_length=100, widget=forms.HiddenInput)
    purpose = forms.CharField(label=_("查看事由"), max_length=300, required=False)


def target_key(obj: SealedTextModel, field: str) -> str:
    return f"{obj._meta.model_name}:{obj.pk}:{field}"


def may_reveal(user, record) -> bool:
    """Whether ``user`` holds the reveal permission on ``record``'s place (the control is shown; the POST checks
    again in ``reveal_text``)."""
    from core.querysets import scope_q
    from core.scope import scope_for

    if user is None or not user.is_authenticated:
        return False
    places = scope_for(user).places_for(REVEAL_PERM)
    if places is None:
        return False
    model = type(record)
    return model._base_manager.filter(scope_q(model, places, user.pk), pk=record.pk).exists()


def reveal_context(request, record, url: str, revealed: dict | None = None, form=None) -> dict:
    return {"url": url, "can": may_reveal(request.user, record), "revealed": revealed or {}, "form": form}


def _resolve(record, key: str, targets: dict):
    kind, pk, field = key.split(":")
    spec = targets.get(kind)
    if spec is None:
        raise Http404
    model, parent = spec
    filters = {"pk": int(pk)}
    if parent is None:
        if int(pk) != record.pk:
            raise Http404
    else:
        filters[parent] = record
    obj = model._base_manager.filter(**filters).first()
    if obj is None or field not in obj.sealed_fields:
        raise Http404
    return obj, field


def handle_reveal(request, record, targets: dict) -> tuple[dict, RevealTextForm, int]:
    """(revealed {key: clear text}, the form, status) of a reveal POST on ``record``'s page. ``targets`` maps a
    model name to (model, the foreign key to the record, or None for the record itself). Not permitted: raises
    PermissionDenied (403); a target not on this record: Http404."""
    from core.views import apply_errors

    form = RevealTextForm(request.POST)
    if not form.is_valid():
        return {}, form, 400
    key = form.cleaned_data["target"]
    obj, field = _resolve(record, key, targets)
    try:
        text = reveal_text(request.user, obj, field, form.cleaned_data["purpose"])
    except ValidationError as exc:
        apply_errors(form, exc)
        return {}, form, 400
    return {key: text}, form, 200
