"""Choices of the volunteer service: skills, team kinds and roles, task kinds, sign-up states, the ledger's
account kinds, units and transfer kinds."""

from django.db import models
from django.utils.translation import pgettext_lazy

__all__ = ["AccountKind", "LIVE_SIGNUPS", "Role", "SignupState", "Skill", "TaskKind", "TeamKind", "TransferKind",
           "Unit", "WEEKDAYS"]



class Skill(models.TextChoices):
    VISIT = "visit", pgettext_lazy("volunteers", "探访陪伴")
    MEDIATION = "mediation", pgettext_lazy("volunteers", "调解劝和")
    OPINION = "opinion", pgettext_lazy("volunteers", "民意收集")
    MEDICAL = "medical", pgettext_lazy("volunteers", "医护急救")
    LEGAL = "legal", pgettext_lazy("volunteers", "法律咨询")
    TEACHING = "teaching", pgettext_lazy("volunteers", "课业辅导")
    REPAIR = "repair", pgettext_lazy("volunteers", "家电维修")
    EVENTS = "events", pgettext_lazy("volunteers", "活动保障")
    DIGITAL = "digital", pgettext_lazy("volunteers", "智能手机教学")


class TeamKind(models.TextChoices):
    BRANCH = "branch", pgettext_lazy("volunteers", "网格行动支部")
    SERVICE = "service", pgettext_lazy("volunteers", "志愿服务队")
    LECTURERS = "lecturers", pgettext_lazy("volunteers", "讲师团")


class Role(models.TextChoices):
    SECRETARY = "secretary", pgettext_lazy("volunteers", "支部书记")
    GRID_WORKER = "grid_worker", pgettext_lazy("volunteers", "网格员")
    MEMBER = "member", pgettext_lazy("volunteers", "志愿者")


class TaskKind(models.TextChoices):
    ACTIVITY = "activity", pgettext_lazy("volunteers", "活动保障")
    LECTURE = "lecture", pgettext_lazy("volunteers", "授课讲师")
    ELDERLY_VISIT = "elderly_visit", pgettext_lazy("volunteers", "探访独居老人")
    OPINION = "opinion", pgettext_lazy("volunteers", "收集民意")
    MEDIATION = "mediation", pgettext_lazy("volunteers", "协助调解")
    OTHER = "other", pgettext_lazy("volunteers", "其他服务")


class SignupState(models.TextChoices):
    SIGNED = "signed", pgettext_lazy("volunteers", "已报名")
    WITHDRAWN = "withdrawn", pgettext_lazy("volunteers", "已取消")
    REPLACED = "replaced", pgettext_lazy("volunteers", "已由他人替班")


LIVE_SIGNUPS = (SignupState.SIGNED,)


class AccountKind(models.TextChoices):
    VOLUNTEER = "volunteer", pgettext_lazy("volunteers", "志愿者账户")
    ISSUER = "issuer", pgettext_lazy("volunteers", "社区发放账户")
    SERVICE = "service", pgettext_lazy("volunteers", "兑换服务账户")


class Unit(models.TextChoices):
    HOURS = "hours", pgettext_lazy("volunteers", "服务时长")
    POINTS = "points", pgettext_lazy("volunteers", "积分")


class TransferKind(models.TextChoices):
    EARN = "earn", pgettext_lazy("volunteers", "核定时长与积分")
    REVERSAL = "reversal", pgettext_lazy("volunteers", "冲正")
    SPEND = "spend", pgettext_lazy("volunteers", "积分兑换")


WEEKDAYS = [("1", pgettext_lazy("volunteers", "周一")), ("2", pgettext_lazy("volunteers", "周二")),
            ("3", pgettext_lazy("volunteers", "周三")), ("4", pgettext_lazy("volunteers", "周四")),
            ("5", pgettext_lazy("volunteers", "周五")), ("6", pgettext_lazy("volunteers", "周六")),
            ("7", pgettext_lazy("volunteers", "周日"))]
