"""Similar open cases nearby, suggested to be linked instead of reporting twice (issue 6, point 5).

``suggest(category_id=..., text=..., building_id=..., compound_id=..., lat=..., lng=...)`` returns up to ``limit``
``(case, score)`` pairs, best first:

1. *Where and what* (indexed, no text): open cases of the same category family (the category, its parent, its
   children) reported in the last ``WINDOW_DAYS`` days in the same building, the same compound, or within
   ``RADIUS_M`` metres (a ~300 m lat/lng cell and its eight neighbours, then the exact distance), newest first,
   at most ``MAX_CANDIDATES``. The index is ``CaseTokens`` (cases/dedup_models.py), one row per case.
2. *How alike*: the words of the new text (jieba's search-engine mode, minus stop words and punctuation) against
   each candidate's stored words: Jaccard similarity of the two word sets, plus a small bonus for the same
   building (or compound) and the same category. Candidates with too few words in common are dropped, however
   close they are: a broken lift and a barking dog in the same building are not duplicates.

jieba loads its dictionary once per process, on the first text segmented: 1-2 s on an idle machine, 4-6 s on a
busy one, and that first text used to be the first case submitted (submitting took 6.1 s). ``warm_up`` loads it in a
background thread instead: when a server process starts (cases/apps.py) and when a report form is shown, so it is
ready long before the form comes back. Importing the URLs stays fast.
"""

from __future__ import annotations

import logging
import math
import re
import threading
from collections.abc import Iterable
from datetime import timedelta

import jieba
from django.db.models import Q
from django.utils import timezone

__all__ = ["MAX_CANDIDATES", "MIN_SCORE", "MIN_TEXT_SIMILARITY", "RADIUS_M", "WINDOW_DAYS", "category_family",
           "cell_of", "index_case", "index_cases", "jaccard", "suggest", "tokenize", "warm_up"]

jieba.setLogLevel(logging.WARNING)

WINDOW_DAYS = 90
MAX_CANDIDATES = 500
RADIUS_M = 300
MIN_TEXT_SIMILARITY = 0.12
MIN_SCORE = 0.25
CELL_LAT = 0.0027  # ≈ 300 m of latitude
CELL_LNG = 0.0032  # ≈ 300 m of longitude at 30° N

# Function words, fillers of complaints ("请尽快处理"), and words every case shares.
STOP_WORDS = frozenset("""
的 了 在 是 我 有 和 就 不 人 都 一 一个 上 也 很 到 说 要 去 你 会 着 没有 看 好 自己 这 那 里 吗 呢 吧 啊 呀 哦
把 被 让 给 对 从 向 为 与 及 或 等 这个 那个 这些 那些 什么 怎么 如何 怎样 为什么 我们 他们 她们 它们 他 她 它 其 该
此 各 每 某 之 以 而 但 但是 并 并且 因为 所以 如果 虽然 然后 而且 还是 还有 还 又 再 才 已 已经 曾经 正在 目前 现在
当前 今天 昨天 最近 近期 近日 时候 期间 以来 以后 之前 之后 非常 特别 十分 比较 很多 许多 多次 经常 一直 总是 始终
没 无 未 否 能 能否 可以 可能 是否 需要 应该 必须 希望 请 请求 麻烦 尽快 赶紧 马上 立即 及时 一下 帮忙 帮助 协调
反映 投诉 举报 问题 情况 事情 事项 相关 有关 进行 处理 解决 要求 诉求 建议 咨询 来电 市民 居民 群众 本人 家里 家
存在 出现 发生 导致 造成 影响 严重 一些 有些 部分 整个 所有 全部 没人 有人 无人 谁 哪里 那里 这里 附近 周边 旁边
小区 社区 街道 号 栋 幢 楼 单元 室 层 号楼
""".split())
_PUNCT = re.compile(r"^[\W_]+$", re.UNICODE)
_DIGITS = re.compile(r"^[\d.]+$")


_warm_lock = threading.Lock()
_warming: threading.Thread | None = None


def warm_up() -> None:
    """Start loading jieba's dictionary in a background thread (once per process; returns at once). A text
    segmented meanwhile waits for the same load (jieba's own lock), never loads it twice."""
    global _warming
    if jieba.dt.initialized or _warming is not None:
        return
    with _warm_lock:
        if _warming is None:
            _warming = threading.Thread(target=jieba.initialize, name="jieba-warm-up", daemon=True)
            _warming.start()


def tokenize(text: str) -> set[str]:
    """The content words of ``text``: jieba's search-engine segmentation, lower-cased, without stop words,
    punctuation and bare numbers."""
    words = set()
    for w in jieba.lcut_for_search((text or "").lower()):
        w = w.strip()
        if not w or w in STOP_WORDS or _PUNCT.match(w) or _DIGITS.match(w):
            continue
        words.add(w)
    return words


def jaccard(a: set[str], b: set[str]) -> float:
    if not a or not b:
        return 0.0
    inter = len(a & b)
    return inter / (len(a) + len(b) - inter)


def cell_of(lat: float | None, lng: float | None) -> int | None:
    if lat is None or lng is None:
        return None
    return math.floor((lat + 90) / CELL_LAT) * 1_000_000 + math.floor((lng + 180) / CELL_LNG)


def _neighbour_cells(lat: float, lng: float) -> list[int]:
    row, col = math.floor((lat + 90) / CELL_LAT), math.floor((lng + 180) / CELL_LNG)
    return [(row + dr) * 1_000_000 + col + dc for dr in (-1, 0, 1) for dc in (-1, 0, 1)]


def distance_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6_371_000 * math.asin(math.sqrt(h))


def category_family(category_id: int) -> list[int]:
    """The category, its parent and its children (a case filed under the broad heading still matches)."""
    from cases.models import CaseCategory

    row = CaseCategory.objects.filter(pk=category_id).values_list("parent_id", flat=True).first()
    ids = {category_id}
    if row:
        ids.add(row)
    ids.update(CaseCategory.objects.filter(parent_id=category_id).values_list("pk", flat=True))
    return sorted(ids)


def _case_text(case) -> str:
    return f"{case.title} {case.description or ''}"


def _row_for(case):
    from cases.dedup_models import CaseTokens

    return CaseTokens(case_id=case.pk, category_id=case.category_id, compound_id=case.compound_id,
                      building_id=case.building_id, cell=cell_of(case.lat, case.lng), lat=case.lat, lng=case.lng,
                      created_at=case.created_at or timezone.now(), tokens=" ".join(sorted(tokenize(_case_text(case)))))


def index_case(case) -> None:
    """Write (or rewrite) the finder's row of one case; called by the ``post_save`` signal of Case."""
    from cases.dedup_models import CaseTokens

    row = _row_for(case)
    CaseTokens.objects.update_or_create(case_id=case.pk, defaults={
        f: getattr(row, f) for f in ("category_id", "compound_id", "building_id", "cell", "lat", "lng",
                                     "created_at", "tokens")})


def index_cases(cases: Iterable, batch: int = 1000) -> int:
    """Index cases written in bulk (``bulk_create`` sends no signal): the demo, the benchmark, imports."""
    from cases.dedup_models import CaseTokens

    rows, done = [], 0
    for case in cases:
        rows.append(_row_for(case))
        if len(rows) >= batch:
            done += len(CaseTokens.objects.bulk_create(rows, ignore_conflicts=True))
            rows = []
    if rows:
        done += len(CaseTokens.objects.bulk_create(rows, ignore_conflicts=True))
    return done


def suggest(*, category_id: int, text: str, building_id: int | None = None, compound_id: int | None = None,
            lat: float | None = None, lng: float | None = None, exclude_id: int | None = None,
            limit: int = 5) -> list[tuple[object, float]]:
    """Similar open cases near the place, best first, as ``(case, score)`` with score in 0..1."""
    from cases.dedup_models import CaseTokens
    from cases.models import OPEN_STATUSES, Case

    words = tokenize(text)
    if not words or not category_id:
        return []
    near = Q(pk__in=[])
    if building_id:
        near |= Q(building_id=building_id)
    if compound_id:
        near |= Q(compound_id=compound_id)
    if lat is not None and lng is not None:
        near |= Q(cell__in=_neighbour_cells(lat, lng))
    if not (building_id or compound_id or (lat is not None and lng is not None)):
        return []
    since = timezone.now() - timedelta(days=WINDOW_DAYS)
    rows = (CaseTokens.objects.filter(near, category_id__in=category_family(category_id), created_at__gte=since,
                                      case__status__in=OPEN_STATUSES, case__created_at__gte=since)
            .order_by("-created_at")
            .values_list("case_id", "category_id", "compound_id", "building_id", "lat", "lng", "tokens")
            [:MAX_CANDIDATES])
    scored: list[tuple[int, float]] = []
    for case_id, cat_id, comp_id, bld_id, c_lat, c_lng, tokens in rows:
        if case_id == exclude_id:
            continue
        same_building = bool(building_id) and bld_id == building_id
        same_compound = bool(compound_id) and comp_id == compound_id
        if not (same_building or same_compound):
            if lat is None or c_lat is None or distance_m(lat, lng, c_lat, c_lng) > RADIUS_M:
                continue
        sim = jaccard(words, set(tokens.split()))
        if sim < MIN_TEXT_SIMILARITY:
            continue
        score = 0.75 * sim + (0.15 if same_building else 0.08 if same_compound else 0.0) \
            + (0.10 if cat_id == category_id else 0.05)
        if score >= MIN_SCORE:
            scored.append((case_id, min(score, 1.0)))
    scored.sort(key=lambda p: (-p[1], -p[0]))
    top = scored[:limit]
    cases = Case._base_manager.in_bulk([cid for cid, _ in top])
    return [(cases[cid], round(score, 3)) for cid, score in top if cid in cases]
