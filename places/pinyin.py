"""Pinyin of place names (compounds, buildings), for search and sorting.

pypinyin reads a character by its commonest reading; in place names some read otherwise: 都 is "du" in 花都, 成都,
都市 (never the adverb "dou"), 厦 is "sha" in 大厦. ``PLACE_READINGS`` holds those readings; the rest is pypinyin's.
"""

from __future__ import annotations

import re
from functools import lru_cache

from pypinyin import Style, lazy_pinyin
from pypinyin.constants import RE_HANS

__all__ = ["PLACE_READINGS", "place_pinyin"]

PLACE_READINGS: dict[str, str] = {"都": "du", "厦": "sha", "埔": "pu"}
_RUNS = re.compile(f"({RE_HANS.pattern.strip('^$').rstrip('+')}+)")


@lru_cache(maxsize=16384)
def place_pinyin(name: str) -> str:
    """"shuiyunhuadu" for 水韵花都: one syllable a character, letters and digits kept, lower case."""
    out = []
    for run in _RUNS.split(name or ""):
        if not run:
            continue
        if RE_HANS.match(run):  # read as a phrase (重庆 chongqing, 银行 yinhang), then the place readings
            syllables = lazy_pinyin(run, style=Style.NORMAL)
            if len(syllables) == len(run):
                syllables = [PLACE_READINGS.get(ch, s) for ch, s in zip(run, syllables, strict=True)]
            out.extend(syllables)
        else:
            out.append("".join(c for c in run if c.isalnum()))
    return "".join(out).replace(" ", "").lower()[:200]
