"""Names to pinyin for search: full pinyin ("zhangsan") and initials ("zs").

pypinyin reads characters by their common reading; a surname has its own reading (单 is Shan, 曾 is
Zeng, 解 is Xie...). The first character (or the first two, for compound surnames) is read from the
surname table below before pypinyin reads the rest.
"""

from __future__ import annotations

from functools import lru_cache

from pypinyin import Style
from pypinyin.constants import RE_HANS
from pypinyin.converter import UltimateConverter
from pypinyin.core import Pinyin

__all__ = ["COMPOUND_SURNAMES", "SURNAME_READINGS", "name_pinyin", "search_key"]

# Surnames whose reading differs from the character's most common reading (百家姓 heteronyms).
SURNAME_READINGS: dict[str, str] = {
    "单": "shan", "曾": "zeng", "解": "xie", "仇": "qiu", "朴": "piao", "区": "ou", "查": "zha", "乐": "yue",
    "覃": "qin", "盖": "ge", "缪": "miao", "翟": "zhai", "种": "chong", "秘": "bi", "召": "shao", "繁": "po",
    "员": "yun", "黑": "he", "尉": "yu", "长": "chang", "万": "wan", "沈": "shen", "折": "she", "句": "gou",
    "阚": "kan", "隗": "wei", "藏": "zang", "宿": "su", "任": "ren", "华": "hua", "纪": "ji", "燕": "yan",
    "过": "guo", "柏": "bai", "葛": "ge", "薄": "bo", "蕃": "pi", "相": "xiang",
}
COMPOUND_SURNAMES: dict[str, list[str]] = {
    "尉迟": ["yu", "chi"], "万俟": ["mo", "qi"], "长孙": ["zhang", "sun"], "澹台": ["tan", "tai"],
    "令狐": ["ling", "hu"], "单于": ["chan", "yu"], "欧阳": ["ou", "yang"], "司马": ["si", "ma"],
}


class _WordMemoConverter(UltimateConverter):
    """The converter ``pypinyin.lazy_pinyin`` uses (same options), remembering each all-Chinese word's reading.

    Names share their characters: an import of 100,000 people meets a few thousand distinct words, and reading
    one costs ~25 µs. Words with characters outside the Chinese ranges are converted every time (their
    ``errors`` callback decides what they become).
    """

    def __init__(self) -> None:
        super().__init__(v_to_u=False, neutral_tone_with_five=False, tone_sandhi=False)
        self._memo: dict[tuple, list[list[str]]] = {}

    def convert(self, words, style, heteronym, errors, strict, **kwargs):
        key = (words, style, heteronym, strict)
        hit = self._memo.get(key)
        if hit is None:
            hit = super().convert(words, style, heteronym, errors, strict, **kwargs)
            if not RE_HANS.match(words) or len(self._memo) >= 100_000:
                return hit
            self._memo[key] = hit
        return [list(x) for x in hit]


_PINYIN = Pinyin(_WordMemoConverter())


def lazy_pinyin(hans: str, style=Style.NORMAL, errors="default") -> list[str]:
    """``pypinyin.lazy_pinyin`` with the words' readings remembered."""
    return _PINYIN.lazy_pinyin(hans, style=style, errors=errors)


def _letters(text: str) -> list[str]:
    return [c.lower() for c in text if c.isalnum()]


@lru_cache(maxsize=65536)
def _reading(hans: str) -> tuple[str, ...]:
    """The syllables of a surname or a given name (an import of 100,000 people meets each given name many times)."""
    return tuple(lazy_pinyin(hans, style=Style.NORMAL, errors=_letters)) if hans else ()


@lru_cache(maxsize=65536)
def name_pinyin(name: str) -> tuple[str, str]:
    """("zhangsan", "zs") for 张三; surnames read as surnames."""
    name = (name or "").strip()
    if not name:
        return "", ""
    if name.isascii():
        words = [w for w in name.lower().replace("-", " ").split() if w]
        return "".join(words), "".join(w[0] for w in words)
    if len(name) >= 3 and name[:2] in COMPOUND_SURNAMES:
        head, rest = COMPOUND_SURNAMES[name[:2]], name[2:]
    elif name[0] in SURNAME_READINGS:
        head, rest = [SURNAME_READINGS[name[0]]], name[1:]
    elif RE_HANS.match(name[0]):
        head, rest = list(_reading(name[0])), name[1:]  # the surname by itself: given names repeat, names do not
    else:
        head, rest = [], name
    parts = [p for p in head + list(_reading(rest)) if p]
    full = "".join(parts).replace(" ", "").lower()
    initials = "".join(p[0] for p in parts).lower()
    return full, initials


def search_key(text: str) -> str:
    """Normalise a search box entry made of letters: lower case, no spaces or apostrophes."""
    return "".join(c for c in text.lower() if c.isalnum())
