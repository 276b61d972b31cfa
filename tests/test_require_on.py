"""core.services.require_on: the one object-level check of the apps' services."""

import pytest
from django.core.exceptions import PermissionDenied

from core.services import require_on

pytestmark = pytest.mark.django_db


def test_out_of_scope_visible_but_not_allowed_allowed_and_the_system(world):
    worker, mine, theirs = world.users.worker_a1, world.houses["A1"][0], world.houses["B1"][0]
    with pytest.raises(PermissionDenied, match="不在您的管辖范围内"):
        require_on(worker, theirs, "change")
    with pytest.raises(PermissionDenied, match="没有进行此操作的权限"):
        require_on(worker, mine, "delete")
    with pytest.raises(PermissionDenied, match="只有社区"):
        require_on(worker, mine, "delete", "只有社区工作人员可以删除房屋")
    require_on(worker, mine, "change")
    require_on(None, theirs, "delete")
