"""Grid workers' visits and the change requests they (and residents' feedback, and the API) raise.

* ``Visit``: one visit of a grid worker to a house, idempotent on the client-generated ``client_id`` (a retry
  after a dropped connection finds the visit already there). An optional photo is stored under MEDIA_ROOT with a
  random name and served only by ``fieldwork:visit_photo`` after a scope check.
* ``ChangeRequest``: one proposed change to the registry (a move-in, a move-out, a new person, a householder
  change, a change of use, a phone fix, a correction, or "unchanged"), with a before/after snapshot for the
  reviewer's diff. Personal numbers in ``payload`` are sealed with ``core.crypto`` (``*_enc``) and shown masked
  (``*_masked``); never clear text. The resident's contact phone is stored like a person's: sealed, blind index,
  masked. Applied only through ``fieldwork.services`` (which calls ``people.services`` / ``places.services``).
* ``ChangePolicy``: which kinds a grid worker applies at once and which need a community officer's approval.

Every row carries the denormalised street / community / grid ids of its house: scoping is one filter.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from core import crypto
from core.models import ScopedModel
from core.sealed import SealedTextModel
from core.validators import mask_phone

__all__ = ["ChangeKind", "ChangePolicy", "ChangeRequest", "ChangeSource", "ChangeStatus", "DEFAULT_POLICY", "Visit",
           "VisitOutcome"]

SCOPE = {"street": "street_id", "community": "community_id", "grid": "grid_id"}


class ChangeKind(models.TextChoices):
    UNCHANGED = "unchanged", _("无变化")
    MOVE_IN = "move_in", _("入住")
    MOVE_OUT = "move_out", _("迁出")
    NEW_PERSON = "new_person", _("新增人员")
    HOUSEHOLDER_CHANGE = "householder_change", _("户主变更")
    CHANGE_USE = "change_use", _("房屋用途变更")
    PHONE_FIX = "phone_fix", _("电话更正")
    CORRECTION = "correction", _("信息更正")


class ChangeStatus(models.TextChoices):
    PENDING = "pending", _("待审核")
    APPROVED = "approved", _("已批准")
    REJECTED = "rejected", _("已驳回")
    APPLIED = "applied", _("已生效")


class ChangeSource(models.TextChoices):
    VISIT = "visit", _("入户走访")
    FEEDBACK = "feedback", _("居民反馈")
    API = "api", _("接口")


class VisitOutcome(models.TextChoices):
    UNCHANGED = "unchanged", _("无变化")
    CHANGED = "changed", _("已更新")
    PENDING = "pending", _("有待审核的变更")
    NOT_HOME = "not_home", _("无人在家")


# What a grid worker's visit (or an API client) may apply at once; everything else waits for a community officer.
# Residents' feedback never writes the registry directly: it always waits for approval (fieldwork.services).
DEFAULT_POLICY: dict[str, bool] = {
    ChangeKind.UNCHANGED: False,
    ChangeKind.PHONE_FIX: False,
    ChangeKind.MOVE_OUT: False,
    ChangeKind.MOVE_IN: True,
    ChangeKind.NEW_PERSON: True,
    ChangeKind.HOUSEHOLDER_CHANGE: True,
    ChangeKind.CHANGE_USE: True,
    ChangeKind.CORRECTION: True,
}


class ChangePolicy(models.Model):
    """Whether changes of one kind need a community officer's approval (street-wide reference data)."""

    kind = models.CharField(_("变更类型"), max_length=24, choices=ChangeKind.choices, unique=True)
    needs_approval = models.BooleanField(_("需要审核"), default=True)
    note = models.CharField(_("说明"), max_length=200, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("变更审核策略")
        verbose_name_plural = _("变更审核策略")
        ordering = ["kind"]

    def __str__(self) -> str:
        return self.get_kind_display()

    @classmethod
    def needs_approval_for(cls, kind: str) -> bool:
        row = cls.objects.filter(kind=kind).values_list("needs_approval", flat=True).first()
        return DEFAULT_POLICY.get(kind, True) if row is None else bool(row)


class Visit(SealedTextModel, ScopedModel):
    scope_fields = SCOPE
    sealed_fields = ("note",)  # numbers typed into it: core.sealed

    house = models.ForeignKey("places.House", on_delete=models.PROTECT, related_name="visits", verbose_name=_("房屋"))
    worker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="visits",
                               verbose_name=_("网格员"))
    visited_at = models.DateTimeField(_("走访时间"), db_index=True)
    client_id = models.UUIDField(_("提交编号"), unique=True, default=uuid.uuid4,
                                 help_text=_("由手机端生成；重复提交同一编号只记一次"))
    note = models.TextField(_("走访记录"), blank=True)
    photo = models.FileField(_("照片"), upload_to="fieldwork/visits/", blank=True)
    outcome = models.CharField(_("结果"), max_length=16, choices=VisitOutcome.choices, default=VisitOutcome.UNCHANGED)
    street = models.ForeignKey("places.Street", on_delete=models.PROTECT, related_name="+", verbose_name=_("街道"))
    community = models.ForeignKey("places.Community", on_delete=models.PROTECT, related_name="+",
                                  verbose_name=_("社区"))
    grid = models.ForeignKey("places.Grid", on_delete=models.PROTECT, related_name="+", verbose_name=_("网格"))

    class Meta:
        verbose_name = _("走访记录")
        verbose_name_plural = _("走访记录")
        ordering = ["-visited_at", "-id"]
        indexes = [models.Index(fields=["worker", "visited_at"]), models.Index(fields=["house", "visited_at"]),
                   models.Index(fields=["grid", "visited_at"])]
        permissions = [("submit_visit", _("提交走访")), ("reassign_visit", _("重新分配走访任务")),
                       ("workload_visit", _("查看网格员工作量"))]

    def __str__(self) -> str:
        return f"{self.house_id} @ {self.visited_at:%Y-%m-%d %H:%M}"

    @property
    def audit_place(self) -> str:
        return f"grid:{self.grid_id}"

    def fill_ancestors(self) -> None:
        h = self.house
        self.street_id, self.community_id, self.grid_id = h.street_id, h.community_id, h.grid_id


class ChangeRequest(SealedTextModel, ScopedModel):
    scope_fields = SCOPE
    # The free text of a request (a correction's wording, a new person's note, a move-out reason, the reviewer's
    # opinion) and its copy in the reviewer's diff: numbers typed into them are sealed (core.sealed).
    sealed_fields = ("reason", "payload.text", "payload.note", "payload.reason", "after.text")
    sealed_json = ("payload",)  # payload's id_number_enc / phone_enc: bound to "payload.<key>" of this row

    house = models.ForeignKey("places.House", on_delete=models.PROTECT, related_name="change_requests",
                              verbose_name=_("房屋"))
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, null=True, blank=True,
                               related_name="change_requests", verbose_name=_("人员"))
    kind = models.CharField(_("变更类型"), max_length=24, choices=ChangeKind.choices)
    payload = models.JSONField(_("变更内容"), default=dict, blank=True,
                               help_text=_("证件号码和电话只存密文（*_enc）和脱敏值（*_masked）"))
    status = models.CharField(_("状态"), max_length=16, choices=ChangeStatus.choices, default=ChangeStatus.PENDING,
                              db_index=True)
    source = models.CharField(_("来源"), max_length=16, choices=ChangeSource.choices)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                     related_name="+", verbose_name=_("提交人"))
    contact_name = models.CharField(_("联系人"), max_length=64, blank=True)
    contact_phone_enc = models.TextField(_("联系电话(密文)"), blank=True)
    contact_phone_bidx = models.CharField(_("联系电话索引"), max_length=32, blank=True, db_index=True)
    contact_phone_masked = models.CharField(_("联系电话"), max_length=16, blank=True)
    visit = models.ForeignKey(Visit, on_delete=models.PROTECT, null=True, blank=True, related_name="changes",
                              verbose_name=_("走访"))
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+", verbose_name=_("审核人"))
    reviewed_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    reason = models.CharField(_("审核意见"), max_length=300, blank=True)
    applied_at = models.DateTimeField(_("生效时间"), null=True, blank=True)
    before = models.JSONField(_("变更前"), default=dict, blank=True)
    after = models.JSONField(_("变更后"), default=dict, blank=True)
    street = models.ForeignKey("places.Street", on_delete=models.PROTECT, related_name="+", verbose_name=_("街道"))
    community = models.ForeignKey("places.Community", on_delete=models.PROTECT, related_name="+",
                                  verbose_name=_("社区"))
    grid = models.ForeignKey("places.Grid", on_delete=models.PROTECT, related_name="+", verbose_name=_("网格"))

    class Meta:
        verbose_name = _("变更申请")
        verbose_name_plural = _("变更申请")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["community", "status", "created_at"]),
                   models.Index(fields=["grid", "status"]), models.Index(fields=["house", "status"])]
        permissions = [("review_changerequest", _("审核变更申请"))]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.house_id}"

    @property
    def audit_place(self) -> str:
        return f"grid:{self.grid_id}"

    def fill_ancestors(self) -> None:
        h = self.house
        self.street_id, self.community_id, self.grid_id = h.street_id, h.community_id, h.grid_id

    def set_contact_phone(self, value: str) -> None:
        """``value`` must already be validated (core.validators.validate_mobile)."""
        if not value:
            self.contact_phone_enc = self.contact_phone_bidx = self.contact_phone_masked = ""
            return
        self.contact_phone_enc = self.seal_field("contact_phone_enc", value)
        self.contact_phone_bidx = crypto.blind_index(value, "phone")
        self.contact_phone_masked = mask_phone(value)
