"""Identifiers and names for the demo: resident IDs that pass python-stdnum's full check, mobile numbers,
passports and permits, unified social credit codes, and Chinese names with a realistic surname distribution.

Everything draws from a ``random.Random`` handed in by the caller, so a seed gives the same output.

Region codes: ``stdnum.cn.ric.validate`` rejects a number whose region code (first 6 digits) was not in force
in the holder's birth year, according to stdnum's ``cn/loc.dat`` (``[1983-1995]吴县`` ...). ``RegionCodes``
reads that file once and answers "which codes under this prefix were in force in year Y".
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import random
import re
from functools import lru_cache
from pathlib import Path

import stdnum
from faker.providers.person.zh_CN import Provider as ZhNames
from stdnum.cn import ric, uscc

__all__ = [
    "NameMaker", "RegionCodes", "credit_code", "foreign_identity", "local_region", "mobile_number", "region_codes",
    "resident_id_number",
]

_LINE = re.compile(r'^(\s*)(\d+)\s+(\w+)="(.*)"\s*$')
_SPAN = re.compile(r"^\[(\d*)-(\d*)\](.*)$")


class RegionCodes:
    """Administrative division codes of stdnum's table with the years each name was in force."""

    def __init__(self, path: Path | None = None) -> None:
        path = path or Path(stdnum.__file__).parent / "cn" / "loc.dat"
        self.names: dict[str, str] = {}
        self.provinces: dict[str, str] = {}
        self.spans: dict[str, list[tuple[int, int]]] = {}
        province = ""
        for line in path.read_text(encoding="utf-8").splitlines():
            m = _LINE.match(line)
            if not m:
                continue
            indent, code, key, value = m.groups()
            if not indent and key == "province":
                province = code
                self.provinces[code] = value
                continue
            if key != "county" or len(code) != 4:
                continue
            full = province + code
            spans = []
            for part in value.split(","):
                s = _SPAN.match(part)
                if s:
                    start, end, name = s.groups()
                    spans.append((int(start or 0), int(end or 9999)))
                else:
                    name = part
                    spans.append((0, 9999))
                self.names.setdefault(full, name)
            self.spans[full] = spans
        self.codes = sorted(self.spans)

    def in_force(self, code: str, year: int) -> bool:
        return any(start <= year <= end for start, end in self.spans.get(code, ()))

    @lru_cache(maxsize=4096)  # noqa: B019 - one instance lives for the whole process
    def pool(self, prefix: str, year: int) -> tuple[str, ...]:
        """County-level codes under ``prefix`` in force in ``year`` (city districts "xx01" and "xx00" left out)."""
        lo = bisect.bisect_left(self.codes, prefix)
        found = []
        for code in itertools.islice(self.codes, lo, None):
            if not code.startswith(prefix):
                break
            if code.endswith("00") or code.endswith("01"):
                continue
            if self.in_force(code, year):
                found.append(code)
        return tuple(found)

    def pick(self, rng: random.Random, prefixes: list[str], year: int, prefer: str = "") -> str:
        """``prefer`` when it was in force in ``year``, else a code from the first prefix that has one."""
        if prefer and self.in_force(prefer, year):
            return prefer
        for prefix in prefixes:
            pool = self.pool(prefix, year)
            if pool:
                return rng.choice(pool)
        pool = self.pool(prefixes[-1][:2], year) or self.pool("3", year)
        return rng.choice(pool)

    def place_name(self, code: str) -> str:
        return self.provinces.get(code[:2], "") + self.names.get(code, "")


@lru_cache(maxsize=1)
def region_codes() -> RegionCodes:
    return RegionCodes()


LOCAL_CODES = ("320507", "320586", "320524", "322727")  # 相城区 (2000-), 吴县市 (1995-2000), 吴县 (-1995)


def local_region(year: int) -> str:
    """The code of Yuanhe's county in force in ``year``: 相城区 since 2000, 吴县市 and 吴县 before."""
    rc = region_codes()
    return next(code for code in LOCAL_CODES if rc.in_force(code, year))


def resident_id_number(rng: random.Random, region: str, birth: dt.date, sex: str, taken: set[int]) -> str:
    """A GB 11643 number for someone born in ``region`` on ``birth``; ``taken`` keeps them unique."""
    odd = 1 if sex == "M" else 0
    stem = f"{region}{birth:%Y%m%d}"
    for _attempt in range(60):
        seq = rng.randrange(0, 500) * 2 + odd
        first17 = f"{stem}{seq:03d}"
        key = int(first17)
        if key not in taken:
            taken.add(key)
            return first17 + ric.calc_check_digit(first17 + "0")
    raise RuntimeError(f"no free sequence number for {stem}")


# Mobile prefixes in proportion to their use (China Mobile / Unicom / Telecom), all valid for phonenumbers.
MOBILE_PREFIXES = (["13" + d for d in "0123456789"] * 4 + ["15" + d for d in "0123567890"] * 3
                   + ["18" + d for d in "0123456789"] * 3 + ["173", "176", "177", "178", "166", "191", "198", "199",
                                                             "147", "195", "189"])


def mobile_number(rng: random.Random) -> str:
    return rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10 ** 8):08d}"


_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def credit_code(rng: random.Random, region: str, taken: set[str]) -> str:
    """A GB 32100 code: 9 (market regulator) 1 (enterprise), the region, a GB 11714 organisation code, check."""
    while True:
        body = "".join(str(rng.randrange(10)) for _ in range(8))
        c = 11 - sum(int(d) * w for d, w in zip(body, _ORG_WEIGHTS, strict=True)) % 11
        org = body + ("X" if c == 10 else "0" if c == 11 else str(c))
        first17 = f"91{region}{org}"
        code = first17 + uscc.calc_check_digit(first17)
        if code not in taken:
            taken.add(code)
            return code


class NameMaker:
    """Chinese names: Faker zh_CN's surname table (with its frequencies) and given-name characters."""

    def __init__(self) -> None:
        surnames = list(ZhNames.last_names.items())
        self.surnames = [s for s, _w in surnames]
        self.cum = list(itertools.accumulate(w for _s, w in surnames))
        self.male = list(ZhNames.first_names_male)
        self.female = list(ZhNames.first_names_female)
        self.male_chars = [c for c in self.male if len(c) == 1]
        self.female_chars = [c for c in self.female if len(c) == 1]
        old = set("秀桂玉凤兰英珍芝淑香金花建志红")
        self.modern = {"M": [n for n in self.male if not (len(n) == 2 and set(n) & old)],
                       "F": [n for n in self.female if not (len(n) == 2 and set(n) & old)]}

    def surname(self, rng: random.Random) -> str:
        return rng.choices(self.surnames, cum_weights=self.cum)[0]

    def given(self, rng: random.Random, sex: str, birth_year: int) -> str:
        if birth_year >= 1975 and rng.random() < 0.9:
            names = self.modern[sex]  # 秀英 and 建国 belong to their parents' generation
        else:
            names = self.male if sex == "M" else self.female
        name = rng.choice(names)
        # Two-character given names are the rule for people born since the 1970s.
        if len(name) == 1 and rng.random() < (0.75 if birth_year >= 1975 else 0.45):
            name += rng.choice(self.male_chars if sex == "M" else self.female_chars)
        return name

    def full(self, rng: random.Random, sex: str, birth_year: int, surname: str | None = None) -> str:
        return (surname or self.surname(rng)) + self.given(rng, sex, birth_year)


# Foreign residents: nationality (in Chinese), share, passport pattern, names.
FOREIGN = [
    ("韩国", 22, "M{d8}", ["KIM", "LEE", "PARK", "CHOI", "JUNG", "KANG", "YOON", "JANG"],
     ["MINJUN", "SEOYEON", "JIHOO", "HAEUN", "DOYUN", "SUA", "JIWOO", "YEJIN"]),
    ("日本", 18, "T{L}{d7}", ["SATO", "SUZUKI", "TAKAHASHI", "TANAKA", "WATANABE", "ITO", "YAMAMOTO", "NAKAMURA"],
     ["HIROSHI", "YUKI", "KENTA", "AYAKA", "TAKUMI", "MISAKI", "SHOTA", "NANAMI"]),
    ("美国", 12, "{d9}", ["SMITH", "JOHNSON", "WILLIAMS", "BROWN", "JONES", "MILLER", "DAVIS", "WILSON"],
     ["JAMES", "MARY", "MICHAEL", "JENNIFER", "DAVID", "LINDA", "ROBERT", "SARAH"]),
    ("德国", 10, "C{A8}", ["MUELLER", "SCHMIDT", "SCHNEIDER", "FISCHER", "WEBER", "MEYER", "WAGNER", "BECKER"],
     ["LUKAS", "ANNA", "FELIX", "LEA", "JONAS", "HANNAH", "PAUL", "LENA"]),
    ("新加坡", 8, "K{d7}{L}", ["TAN", "LIM", "LEE", "NG", "ONG", "WONG", "GOH", "CHUA"],
     ["WEI MING", "HUI LING", "JUN JIE", "XIN YI", "KAI WEN", "SHU FEN"]),
    ("马来西亚", 6, "A{d8}", ["LIM", "TAN", "WONG", "ABDULLAH", "RAHMAN", "ISMAIL"],
     ["AHMAD", "SITI", "CHEE KEONG", "MEI LING", "HAFIZ", "NURUL"]),
    ("英国", 6, "{d9}", ["TAYLOR", "DAVIES", "EVANS", "THOMAS", "ROBERTS", "WALKER"],
     ["OLIVER", "EMILY", "HARRY", "SOPHIE", "JACK", "CHLOE"]),
    ("法国", 5, "{d2}{L2}{d5}", ["MARTIN", "BERNARD", "DUBOIS", "THOMAS", "ROBERT", "PETIT"],
     ["LOUIS", "CAMILLE", "HUGO", "MANON", "JULES", "CHLOE"]),
    ("越南", 5, "C{d7}", ["NGUYEN", "TRAN", "LE", "PHAM", "HOANG", "VU"], ["VAN AN", "THI HOA", "MINH", "THI LAN"]),
    ("意大利", 4, "Y{A2}{d7}", ["ROSSI", "RUSSO", "FERRARI", "ESPOSITO", "BIANCHI", "ROMANO"],
     ["MARCO", "GIULIA", "LUCA", "CHIARA", "MATTEO", "SARA"]),
    ("俄罗斯", 4, "{d9}", ["IVANOV", "SMIRNOV", "KUZNETSOV", "POPOV", "PETROVA", "SOKOLOVA"],
     ["ALEXEI", "OLGA", "DMITRY", "ANNA", "SERGEI", "ELENA"]),
]
_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"


def _fill(rng: random.Random, pattern: str) -> str:
    def rep(m: re.Match) -> str:
        kind, n = m.group(1), int(m.group(2) or 1)
        if kind == "d":
            return "".join(str(rng.randrange(10)) for _ in range(n))
        if kind == "L":
            return "".join(rng.choice(_LETTERS) for _ in range(n))
        return "".join(rng.choice(_LETTERS + "0123456789") for _ in range(n))

    return re.sub(r"\{([dLA])(\d*)\}", rep, pattern)


def foreign_identity(rng: random.Random, taken: set[tuple[str, str]],
                     like: tuple[str, str, str] | None = None) -> tuple[str, str, str, str]:
    """(id_type, number, nationality, Latin name or "") of a foreign resident or one from Hong Kong, Macao
    or Taiwan. ``like`` = (id_type, nationality, surname) of a family member: the same document and nationality.
    Holders of permits get a Chinese name from the caller (the Latin name is empty)."""
    if like is None:
        roll = rng.random()
        if roll < 0.12:
            like = ("hk_macau", "中国香港", "")
        elif roll < 0.16:
            like = ("hk_macau", "中国澳门", "")
        elif roll < 0.28:
            like = ("taiwan", "中国台湾", "")
        else:
            like = ("passport", rng.choices(FOREIGN, weights=[f[1] for f in FOREIGN])[0][0], "")
    kind, nationality, surname = like
    while True:
        name = ""
        if kind == "hk_macau":
            number = ("H" if nationality == "中国香港" else "M") + _fill(rng, "{d8}")
        elif kind == "taiwan":
            number = _fill(rng, "{d8}")
        else:
            nat = next(f for f in FOREIGN if f[0] == nationality)
            number = _fill(rng, nat[2])
            name = f"{surname or rng.choice(nat[3])} {rng.choice(nat[4])}"
        if (kind, number) not in taken:
            taken.add((kind, number))
            return kind, number, nationality, name
