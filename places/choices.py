from django.db import models
from django.utils.translation import gettext_lazy as _

__all__ = ["CompoundKind", "HouseUse"]


class CompoundKind(models.TextChoices):
    RESIDENTIAL = "residential", _("住宅小区")
    APARTMENT = "apartment", _("公寓")
    OFFICE = "office", _("商务楼宇")
    MIXED = "mixed", _("混合")


class HouseUse(models.TextChoices):
    OWNER = "owner", _("自住")
    RENTED = "rented", _("出租")
    VACANT = "vacant", _("空置")
    COMMERCIAL = "commercial", _("商用")
    OTHER = "other", _("其他")
