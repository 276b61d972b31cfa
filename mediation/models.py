"""Dispute mediation records (矛盾纠纷调解): the mediation of a case, its parties, mediators, sessions, the
outcome and the agreement, and the follow-up visits (回访) after closure.

A ``Mediation`` belongs to one case (``cases.Case``, category 邻里纠纷 or any other) and copies its street /
community / grid for scoping. Parties are linked to registry persons and houses where known; their phones are
sealed like a person's. Every write goes through ``mediation.services``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.models import ScopedModel, TimestampedModel
from core.sealed import SealedTextModel
from core.validators import mask_phone

__all__ = ["FollowUp", "Mediation", "Mediator", "Outcome", "Party", "PartyRole", "Session", "State"]

SCOPE = {"street": "street_id", "community": "community_id", "grid": "grid_id"}


class State(models.TextChoices):
    OPEN = "open", _("调解中")
    CLOSED = "closed", _("已结束")


class Outcome(models.TextChoices):
    AGREED = "agreed", _("达成协议")
    PARTLY = "partly", _("部分达成")
    FAILED = "failed", _("未达成")
    REFERRED = "referred", _("转交")


class Mediation(SealedTextModel, ScopedModel):
    scope_fields = SCOPE
    sealed_fields = ("title", "facts", "outcome_note", "terms", "performance")  # numbers in them: core.sealed

    case = models.OneToOneField("cases.Case", on_delete=models.PROTECT, related_name="mediation",
                                verbose_name=_("案件"))
    number = models.CharField(_("调解编号"), max_length=24, unique=True)
    title = models.CharField(_("纠纷名称"), max_length=100)
    facts = models.TextField(_("纠纷事实与争议"), blank=True)
    committee = models.CharField(_("调解组织"), max_length=100, blank=True,
                                 help_text=_("例如：社区A人民调解委员会"))
    state = models.CharField(_("状态"), max_length=8, choices=State.choices, default=State.OPEN)
    outcome = models.CharField(_("调解结果"), max_length=12, choices=Outcome.choices, blank=True)
    outcome_note = models.TextField(_("结果说明"), blank=True)
    referred_to = models.CharField(_("转交单位"), max_length=100, blank=True)
    terms = models.TextField(_("协议条款"), blank=True, help_text=_("每行一条"))
    performance = models.TextField(_("履行方式、时限"), blank=True)
    signed_on = models.DateField(_("签订日期"), null=True, blank=True)
    closed_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    street = models.ForeignKey("places.Street", on_delete=models.PROTECT, related_name="+", verbose_name=_("街道"))
    community = models.ForeignKey("places.Community", on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="+", verbose_name=_("社区"))
    grid = models.ForeignKey("places.Grid", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                             verbose_name=_("网格"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+", verbose_name=_("登记人"))

    class Meta:
        verbose_name = _("调解")
        verbose_name_plural = _("调解")
        ordering = ["-id"]
        permissions = [("close_mediation", _("结束调解并记录结果")),
                       ("agreement_mediation", _("生成调解协议书"))]
        indexes = [models.Index(fields=["grid", "state"], name="mediation_grid_state"),
                   models.Index(fields=["community", "state"], name="mediation_community_state")]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @property
    def audit_place(self) -> str:
        return f"grid:{self.grid_id}" if self.grid_id else f"street:{self.street_id}"


class PartyRole(models.TextChoices):
    APPLICANT = "applicant", _("申请人")
    RESPONDENT = "respondent", _("被申请人")
    THIRD = "third", _("第三人")


class Party(SealedTextModel):
    sealed_fields = ("address",)

    mediation = models.ForeignKey(Mediation, on_delete=models.CASCADE, related_name="parties",
                                  verbose_name=_("调解"))
    role = models.CharField(_("身份"), max_length=12, choices=PartyRole.choices, default=PartyRole.APPLICANT)
    name = models.CharField(_("姓名"), max_length=64)
    person = models.ForeignKey("people.Person", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
                               verbose_name=_("登记人员"))
    house = models.ForeignKey("places.House", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
                              verbose_name=_("房屋（户）"))
    address = models.CharField(_("住址"), max_length=200, blank=True)
    phone_enc = models.TextField(_("联系电话(密文)"), blank=True)
    phone_masked = models.CharField(_("联系电话"), max_length=16, blank=True)

    class Meta:
        verbose_name = _("当事人")
        verbose_name_plural = _("当事人")
        ordering = ["role", "id"]

    def __str__(self) -> str:
        return self.name

    def sealed_scope_object(self):
        return self.mediation

    def set_phone(self, value: str) -> None:
        self.phone_enc = self.seal_field("phone_enc", value)
        self.phone_masked = mask_phone(value) if value else ""


class Mediator(models.Model):
    """A mediator: a user of the platform, or a volunteer known by name only."""

    mediation = models.ForeignKey(Mediation, on_delete=models.CASCADE, related_name="mediators",
                                  verbose_name=_("调解"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                             related_name="mediations", verbose_name=_("用户"))
    name = models.CharField(_("姓名"), max_length=64)
    is_volunteer = models.BooleanField(_("志愿者"), default=False)
    is_lead = models.BooleanField(_("主调解员"), default=False)

    class Meta:
        verbose_name = _("调解员")
        verbose_name_plural = _("调解员")
        ordering = ["-is_lead", "id"]
        constraints = [models.UniqueConstraint(fields=["mediation", "user"], condition=models.Q(user__isnull=False),
                                               name="mediation_mediator_user_once",
                                               violation_error_message=_("该用户已是本案调解员"))]

    def __str__(self) -> str:
        return self.name


class Session(SealedTextModel, TimestampedModel):
    sealed_fields = ("notes", "attendees")

    mediation = models.ForeignKey(Mediation, on_delete=models.CASCADE, related_name="sessions",
                                  verbose_name=_("调解"))
    held_at = models.DateTimeField(_("调解时间"))
    place = models.CharField(_("地点"), max_length=100)
    attendees = models.CharField(_("参加人员"), max_length=300, blank=True)
    notes = models.TextField(_("调解记录"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+", verbose_name=_("记录人"))

    class Meta:
        verbose_name = _("调解会")
        verbose_name_plural = _("调解会")
        ordering = ["held_at", "id"]

    def __str__(self) -> str:
        return f"{self.mediation_id} {self.held_at:%Y-%m-%d}"

    def sealed_scope_object(self):
        return self.mediation


class FollowUp(SealedTextModel, TimestampedModel):
    """A follow-up visit (回访) after closure: due on a date, reminded to the lead mediator, then recorded."""

    sealed_fields = ("note",)

    mediation = models.ForeignKey(Mediation, on_delete=models.CASCADE, related_name="follow_ups",
                                  verbose_name=_("调解"))
    due_on = models.DateField(_("回访日期"), db_index=True)
    done_at = models.DateTimeField(_("回访时间"), null=True, blank=True)
    done_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="+", verbose_name=_("回访人"))
    honoured = models.BooleanField(_("协议已履行"), null=True, blank=True)
    note = models.TextField(_("回访情况"), blank=True)
    reminded_at = models.DateTimeField(_("提醒时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("回访记录")
        verbose_name_plural = _("回访记录")
        ordering = ["due_on", "id"]

    def __str__(self) -> str:
        return f"{self.mediation_id} {self.due_on}"

    def sealed_scope_object(self):
        return self.mediation
