"""Choices of the shared resources: kinds, booking modes and states, quota subjects and periods."""

from django.db import models
from django.utils.translation import gettext_lazy as _

__all__ = ["ACTIVE_STATES", "BookingState", "Kind", "Mode", "Period", "Subject", "WaitState"]


class Kind(models.TextChoices):
    PARKING_POOL = "parking_pool", _("停车场")
    PARKING_SPACE = "parking_space", _("车位")
    SPACE = "space", _("共享空间")
    ROOM = "room", _("房间")
    ZONE = "zone", _("分区")
    CANTEEN = "canteen", _("共享食堂")
    SERVICE = "service", _("上门服务")
    SHUTTLE = "shuttle", _("班车")
    CHECKPOINT = "checkpoint", _("打卡点")


class Mode(models.TextChoices):
    """How a resource is booked: a time span held alone (a space, a room), a seat of a fixed sitting or trip
    (counted capacity), a share of a provider's day, or not at all (a check-in point such as the fridge)."""

    EXCLUSIVE = "exclusive", _("整段独占")
    SEATS = "seats", _("按场次座位")
    DAILY = "daily", _("按日名额")
    NONE = "none", _("不预约")
    GROUP = "group", _("分组（预约其下资源）")


class BookingState(models.TextChoices):
    PENDING = "pending", _("待审批")
    HELD = "held", _("候补保留中")
    CONFIRMED = "confirmed", _("已预约")
    CHECKED_IN = "checked_in", _("已签到")
    CANCELLED = "cancelled", _("已取消")
    RELEASED = "released", _("未到已释放")
    REJECTED = "rejected", _("未通过")
    EXPIRED = "expired", _("保留已过期")


ACTIVE_STATES = (BookingState.PENDING, BookingState.HELD, BookingState.CONFIRMED, BookingState.CHECKED_IN)


class Subject(models.TextChoices):
    PERSON = "person", _("每人")
    HOUSEHOLD = "household", _("每户")
    ENTERPRISE = "enterprise", _("每家企业")
    COMPOUND = "compound", _("每个小区")


class Period(models.TextChoices):
    DAY = "day", _("每天")
    WEEK = "week", _("每周")
    MONTH = "month", _("每月")
    SEASON = "season", _("每季度")
    YEAR = "year", _("每年")


class WaitState(models.TextChoices):
    WAITING = "waiting", _("候补中")
    OFFERED = "offered", _("已为您保留")
    BOOKED = "booked", _("已转为预约")
    EXPIRED = "expired", _("保留已过期")
    WITHDRAWN = "withdrawn", _("已撤回")
