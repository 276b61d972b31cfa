"""The choices of joint meetings and enterprise services."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

__all__ = ["GroupKind", "MeetingState", "NeedCategory", "NeedState", "OPEN_STATES", "OrgKind", "ResolutionState",
           "UpdateKind"]


class OrgKind(models.TextChoices):
    ENTERPRISE = "enterprise", _("企业")
    PROPERTY = "property", _("物业公司")
    PARTY = "party", _("党组织")
    YOUTH = "youth", _("团组织")
    SCHOOL = "school", _("学校")
    GOVERNMENT = "government", _("政府部门")
    COMMUNITY = "community", _("社区/网格")
    SOCIAL = "social", _("社会组织")


class GroupKind(models.TextChoices):
    PARTY_COMMUNITY = "party_community", _("区域党建共同体")
    YOUTH_ALLIANCE = "youth_alliance", _("青年联盟")
    OTHER = "other", _("其他")


class MeetingState(models.TextChoices):
    PLANNED = "planned", _("筹备中")
    OPEN = "open", _("进行中")
    HELD = "held", _("已召开")


class ResolutionState(models.TextChoices):
    PROPOSED = "proposed", _("待交办")
    ASSIGNED = "assigned", _("已交办")
    IN_PROGRESS = "in_progress", _("推进中")
    SUBMITTED = "submitted", _("待确认办结")
    DONE = "done", _("已办结")
    CANCELLED = "cancelled", _("已撤销")


OPEN_STATES = (ResolutionState.PROPOSED, ResolutionState.ASSIGNED, ResolutionState.IN_PROGRESS,
               ResolutionState.SUBMITTED)


class UpdateKind(models.TextChoices):
    PROPOSED = "proposed", _("形成决议")
    ASSIGNED = "assigned", _("交办")
    PROGRESS = "progress", _("进展")
    SUBMITTED = "submitted", _("报请办结")
    CONFIRMED = "confirmed", _("确认办结")
    REJECTED = "rejected", _("退回继续办理")
    ESCALATED = "escalated", _("超期督办")
    CARRIED = "carried", _("转入下次会议")
    CANCELLED = "cancelled", _("撤销")


class NeedCategory(models.TextChoices):
    DINING = "dining", _("就餐")
    PARKING = "parking", _("停车")
    COMMUTING = "commuting", _("通勤")
    HIRING = "hiring", _("招聘用工")
    POLICY = "policy", _("政策咨询")
    PERMITS = "permits", _("证照办理")
    OTHER = "other", _("其他")


class NeedState(models.TextChoices):
    OPEN = "open", _("待办理")
    IN_PROGRESS = "in_progress", _("办理中")
    RESOLVED = "resolved", _("已解决")
    CASE = "case", _("已转案件")
    CLOSED = "closed", _("已关闭")
