from django.db import models
from django.utils.translation import gettext_lazy as _

__all__ = ["IdType", "Relation", "ResidenceRole", "ResidencyType", "Sex"]


class IdType(models.TextChoices):
    RESIDENT_ID = "resident_id", _("居民身份证")
    PASSPORT = "passport", _("护照")
    HK_MACAU = "hk_macau", _("港澳居民来往内地通行证")
    TAIWAN = "taiwan", _("台湾居民来往大陆通行证")
    OTHER = "other", _("其他证件")


class Sex(models.TextChoices):
    MALE = "M", _("男")
    FEMALE = "F", _("女")


class ResidencyType(models.TextChoices):
    REGISTERED = "registered", _("户籍人口")
    FLOATING = "floating", _("流动人口")
    FOREIGN = "foreign", _("境外人员")
    OTHER = "other", _("其他")


class ResidenceRole(models.TextChoices):
    OWNER = "owner", _("产权人")
    TENANT = "tenant", _("租户")
    FAMILY = "family", _("家庭成员")
    EMPLOYEE = "employee", _("员工")
    OTHER = "other", _("其他")


class Relation(models.TextChoices):
    HOUSEHOLDER = "householder", _("户主")
    SPOUSE = "spouse", _("配偶")
    CHILD = "child", _("子女")
    PARENT = "parent", _("父母")
    GRANDCHILD = "grandchild", _("孙子女")
    GRANDPARENT = "grandparent", _("祖父母")
    SIBLING = "sibling", _("兄弟姐妹")
    CHILD_IN_LAW = "child_in_law", _("儿媳/女婿")
    OTHER_RELATIVE = "relative", _("其他亲属")
    NON_RELATIVE = "none", _("非亲属")
