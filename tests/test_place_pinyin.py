"""Place names in pinyin as people read them (search by pinyin, sorting of compounds)."""

import pytest

from places.models import Compound
from places.pinyin import place_pinyin
from places.services import save_compound


@pytest.mark.parametrize("name, reading", [
    ("水韵花都", "shuiyunhuadu"), ("成都花园3期", "chengduhuayuan3qi"), ("活力大厦", "huolidasha"),
    ("重庆路小区", "chongqingluxiaoqu"), ("银行宿舍", "yinhangsushe"), ("长安新村", "changanxincun"),
    ("A1花园", "a1huayuan"), ("音乐厅", "yinyueting"), ("", ""),
])
def test_place_names_read_as_places_not_as_the_commonest_reading(name, reading):
    assert place_pinyin(name) == reading


def test_a_compound_saved_through_the_service_is_found_by_its_pinyin(world):
    grid = world.grids["A1"]
    compound = save_compound(world.users.officer_a, {"name": "水韵花都", "grid": grid})
    assert compound.name_pinyin == "shuiyunhuadu"
    assert Compound.objects.filter(name_pinyin__startswith="shuiyunhuadu").exists()
