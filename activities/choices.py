"""Choices of the community activities: how places are given, the states of a sign-up and of an attendance."""

from django.db import models
from django.utils.translation import pgettext_lazy

__all__ = ["ACTIVE", "AllocationRule", "Attendance", "Mode", "Organiser", "SignUpState", "Status"]


class Organiser(models.TextChoices):
    COMMUNITY = "community", pgettext_lazy("activities", "社区")
    PARTNER = "partner", pgettext_lazy("activities", "合作单位")


class Mode(models.TextChoices):
    FIRST_COME = "first_come", pgettext_lazy("activities", "先到先得")
    ALLOCATION = "allocation", pgettext_lazy("activities", "报名后统一分配")


class AllocationRule(models.TextChoices):
    LOTTERY = "lottery", pgettext_lazy("activities", "随机摇号")
    PRIORITY = "priority", pgettext_lazy("activities", "优先规则后摇号")


class Status(models.TextChoices):
    DRAFT = "draft", pgettext_lazy("activities", "草稿")
    PUBLISHED = "published", pgettext_lazy("activities", "已发布")
    CANCELLED = "cancelled", pgettext_lazy("activities", "已取消")


class SignUpState(models.TextChoices):
    APPLIED = "applied", pgettext_lazy("activities", "已报名待分配")
    CONFIRMED = "confirmed", pgettext_lazy("activities", "报名成功")
    WAITING = "waiting", pgettext_lazy("activities", "候补中")
    OFFERED = "offered", pgettext_lazy("activities", "候补名额保留中")
    NOT_DRAWN = "not_drawn", pgettext_lazy("activities", "未分配到名额")
    CANCELLED = "cancelled", pgettext_lazy("activities", "已取消")
    EXPIRED = "expired", pgettext_lazy("activities", "保留已过期")


ACTIVE = (SignUpState.APPLIED, SignUpState.CONFIRMED, SignUpState.WAITING, SignUpState.OFFERED)
HOLDING = (SignUpState.CONFIRMED, SignUpState.OFFERED)  # states that take places of the capacity


class Attendance(models.TextChoices):
    PRESENT = "present", pgettext_lazy("activities", "已签到")
    ABSENT = "absent", pgettext_lazy("activities", "缺席")
    EXCUSED = "excused", pgettext_lazy("activities", "请假")
