"""The default roles, as data an administrator can edit afterwards (Role rows with Django permissions).

``ensure_default_roles()`` creates or completes them; it never removes a permission an admin added.
Codes of permissions are ``app_label.codename``. Apps that arrive later (fieldwork, cases...) add their
permissions to these roles in their own ``apps.py`` through ``register_role_permissions``.
"""

from __future__ import annotations

from django.contrib.auth.models import Permission
from django.db import transaction

__all__ = ["DEFAULT_ROLES", "ensure_default_roles", "register_role_permissions"]

PLACE_VIEW = ["places.view_street", "places.view_community", "places.view_grid", "places.view_compound",
              "places.view_building", "places.view_house"]
REGISTRY_WORK = PLACE_VIEW + [
    "places.change_house", "places.add_house",
    "people.view_person", "people.add_person", "people.change_person",
    "people.view_residence", "people.add_residence", "people.change_residence",
    "people.view_enterprise", "people.change_enterprise",
]

DEFAULT_ROLES: dict[str, dict] = {
    "grid_worker": {"name": "网格员", "description": "本网格的房屋与人员：走访、登记、变更", "perms": REGISTRY_WORK},
    "community_officer": {
        "name": "社区工作人员", "description": "本社区的房屋与人员：审核、导入导出、查看完整号码",
        "perms": REGISTRY_WORK + [
            "places.add_compound", "places.change_compound", "places.add_building", "places.change_building",
            "people.add_enterprise", "people.reveal_person", "people.export_person", "people.import_person",
        ],
    },
    "command_centre": {
        "name": "指挥中心", "description": "全街道的汇总数据；个人明细需说明事由", "aggregate_only": True,
        "perms": PLACE_VIEW + ["people.view_person", "people.view_residence", "people.view_enterprise"],
    },
    "system_admin": {"name": "系统管理员", "description": "用户与系统配置；不接触个人信息",
                     "perms": ["auth.view_user", "auth.add_user", "auth.change_user"]},
    # The security admin sees the names of streets, communities and grids (to grant them), never houses or people.
    "security_admin": {"name": "安全管理员", "description": "角色与授权；不接触个人信息",
                       "perms": ["core.view_role", "core.add_role", "core.change_role", "core.view_grant",
                                 "core.add_grant", "core.change_grant", "core.delete_grant",
                                 "places.view_street", "places.view_community", "places.view_grid"]},
    "auditor": {"name": "审计员", "description": "查阅审计记录；不接触个人信息", "perms": ["core.view_auditevent"]},
    "resident": {"name": "居民", "description": "只能看到本人提交的内容", "perms": []},
}

_extra: dict[str, list[str]] = {}


def register_role_permissions(role_code: str, perms: list[str]) -> None:
    """Called from an app's ``ready()`` to add its permissions to a default role."""
    _extra.setdefault(role_code, []).extend(perms)


@transaction.atomic
def ensure_default_roles() -> dict[str, object]:
    """Create or complete the default roles in a handful of queries (one for all permissions, one per role)."""
    from core.models import Role

    wanted = {code: spec["perms"] + _extra.get(code, []) for code, spec in DEFAULT_ROLES.items()}
    labels = {c.split(".", 1)[0] for perms in wanted.values() for c in perms}
    by_code = {f"{p.content_type.app_label}.{p.codename}": p
               for p in Permission.objects.filter(content_type__app_label__in=labels).select_related("content_type")}
    existing = {r.code: r for r in Role.objects.filter(code__in=list(DEFAULT_ROLES))}
    roles = {}
    for code, spec in DEFAULT_ROLES.items():
        role = existing.get(code) or Role.objects.create(
            code=code, name=spec["name"], description=spec.get("description", ""),
            aggregate_only=spec.get("aggregate_only", False))
        role.permissions.add(*{by_code[c] for c in wanted[code] if c in by_code})
        roles[code] = role
    return roles
