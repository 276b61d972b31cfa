"""``audit.deferred()``: a service's audit events are queued and written at the end of its transaction, under one
acquisition of the chain's lock, with the chain unchanged (order, hashes, ``verify_chain``)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction
from django.db.models.signals import post_save

from core import audit
from core.models import AuditEvent

pytestmark = pytest.mark.django_db


def _rec(name: str, **kw) -> AuditEvent:
    return audit.record(name, object_type="test.thing", object_id=name, username="system", **kw)


def _actions() -> list[str]:
    return list(AuditEvent.objects.filter(object_type="test.thing").order_by("id").values_list("action", flat=True))


def _chain_lock_held() -> bool:
    """Whether this connection holds the chain's advisory lock (PostgreSQL)."""
    with connection.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() "
                    "AND objid = %s AND granted", [audit._CHAIN_LOCK_ID])
        return cur.fetchone()[0] > 0


def test_events_are_written_in_order_at_the_end_and_the_chain_verifies():
    _rec("before")
    with audit.deferred():
        queued = [_rec("one"), _rec("two"), _rec("three")]
        assert _actions() == ["before"]  # nothing written yet
        assert all(ev.pk is None for ev in queued)
    assert _actions() == ["before", "one", "two", "three"]
    assert [ev.pk for ev in queued] == sorted(ev.pk for ev in queued)
    rows = list(AuditEvent.objects.filter(object_type="test.thing").order_by("id"))
    for prev, row in zip(rows, rows[1:], strict=False):
        assert row.prev_hash == prev.hash
        assert row.hash == audit.row_digest(prev.hash, row)
    assert audit.verify_chain() == (True, None, AuditEvent.objects.count())


def test_a_single_deferred_event_and_later_immediate_ones_keep_one_chain():
    with audit.deferred():
        _rec("alone")
    _rec("after")
    with audit.deferred():
        pass  # nothing recorded: nothing written
    assert _actions() == ["alone", "after"]
    assert audit.verify_chain()[0]


def test_an_exception_inside_leaves_no_audit_row_and_no_change():
    from people.models import Tag

    with pytest.raises(RuntimeError), audit.deferred():
        Tag.objects.create(code="deferred-test", name="延迟测试")
        _rec("doomed")
        raise RuntimeError("the service failed")
    assert _actions() == []
    assert not Tag.objects.filter(code="deferred-test").exists()
    _rec("next")  # the queue was emptied: the next block or record starts clean
    assert _actions() == ["next"]


def test_a_rolled_back_outer_transaction_leaves_no_audit_row():
    with transaction.atomic():
        sid = transaction.savepoint()
        with audit.deferred():
            _rec("rolled back")
        assert _actions() == ["rolled back"]  # written at the block's end, inside the transaction
        transaction.savepoint_rollback(sid)
    assert _actions() == []


def test_nested_blocks_write_at_the_end_of_the_outermost():
    with audit.deferred():
        _rec("outer 1")
        with audit.deferred():
            _rec("inner")
        assert _actions() == []  # the inner block's end wrote nothing
        _rec("outer 2")
    assert _actions() == ["outer 1", "inner", "outer 2"]
    assert audit.verify_chain()[0]


def test_an_inner_block_that_fails_drops_only_its_own_events():
    with audit.deferred():
        _rec("kept 1")
        try:
            with audit.deferred():
                _rec("dropped")
                raise ValueError("inner failure, caught by the outer service")
        except ValueError:
            pass
        _rec("kept 2")
    assert _actions() == ["kept 1", "kept 2"]
    assert audit.verify_chain()[0]


def test_a_rolled_back_savepoint_inside_the_block_drops_its_events():
    with audit.deferred():
        _rec("kept")
        try:
            with transaction.atomic():
                _rec("undone")
                raise ValueError("a savepoint rolled back")
        except ValueError:
            pass
        with transaction.atomic():
            _rec("released")  # a savepoint released normally keeps its event
    assert _actions() == ["kept", "released"]


def test_defer_false_writes_at_once_after_what_was_queued():
    with audit.deferred():
        _rec("queued")
        now = _rec("needs its id", defer=False)
        assert now.pk is not None
        assert _actions() == ["queued", "needs its id"]
        _rec("last")
    assert _actions() == ["queued", "needs its id", "last"]
    assert audit.verify_chain()[0]


def test_post_save_signals_fire_for_every_row_written_at_the_end():
    seen = []

    def listener(sender, instance, created, **kwargs):
        seen.append((instance.action, instance.pk, created, instance.hash))

    post_save.connect(listener, sender=AuditEvent, dispatch_uid="test.deferred.listener")
    try:
        with audit.deferred():
            _rec("a")
            _rec("b")
            assert seen == []
        with audit.deferred():
            _rec("c")
    finally:
        post_save.disconnect(dispatch_uid="test.deferred.listener", sender=AuditEvent)
    assert [(a, c) for a, _pk, c, _h in seen] == [("a", True), ("b", True), ("c", True)]
    assert all(pk is not None and h for _a, pk, _c, h in seen)


def test_the_cockpit_still_hears_a_deferred_write_on_a_person(world):
    """cockpit.signals listens to AuditEvent post_save (a person's tags are bulk-written before the audit)."""
    from cockpit.models import DirtyPlace
    from people.models import Residence

    residence = Residence.objects.filter(moved_out__isnull=True).select_related("house").first()
    DirtyPlace.objects.all().delete()
    with audit.deferred():
        audit.record("update", residence.person, username="system")
        assert not DirtyPlace.objects.exists()
    assert DirtyPlace.objects.filter(level="building", place_id=residence.house.building_id).exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the chain's advisory lock exists on PostgreSQL only "
                    "(SQLite writers hold the database's single write lock for the whole transaction anyway)")
def test_the_chain_lock_is_taken_only_at_the_end_of_the_block():
    with transaction.atomic():
        with audit.deferred():
            _rec("queued")
            assert not _chain_lock_held()
        assert _chain_lock_held()  # from the write to the commit
    _rec("immediate")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent transactions on separate connections: "
                    "the SQLite test database is in memory (the resources race test covers SQLite's writers)")
@pytest.mark.django_db(transaction=True)
def test_concurrent_deferred_writers_keep_one_valid_chain():
    threads, each = 6, 5
    barrier = threading.Barrier(threads)
    errors = []

    def run(i: int) -> None:
        try:
            barrier.wait()
            for j in range(each):
                with audit.deferred():
                    _rec(f"t{i}-{j}-a")
                    _rec(f"t{i}-{j}-b")
        except Exception as exc:  # noqa: BLE001 reported below
            errors.append(repr(exc))
        finally:
            connection.close()

    workers = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert errors == []
    actions = _actions()
    assert len(actions) == threads * each * 2
    for i in range(threads):
        for j in range(each):  # a block's two events are adjacent in the chain
            assert actions.index(f"t{i}-{j}-b") == actions.index(f"t{i}-{j}-a") + 1
    assert audit.verify_chain() == (True, None, AuditEvent.objects.count())


def test_an_event_with_chinese_text_nested_changes_and_an_ip_hashes_the_same_as_row_digest():
    """On PostgreSQL a single event's digest is computed by the database: it must equal row_digest."""
    ev = audit.record("update", object_type="test.thing", object_id="汉字", username="网格员", place="海棠社区 1号楼",
                      fields=["relation", "备注"], changes={"relation": ["子女", "配偶"], "n": [1, 2.5], "x": None,
                                                          "deep": {"ü": "é—\"quoted\"\\"}},
                      purpose="走访核实 🏠", result="ok")
    row = AuditEvent.objects.get(pk=ev.pk)
    assert row.hash == audit.row_digest(row.prev_hash, row) == ev.hash
    with audit.deferred():
        audit.record("update", object_type="test.thing", object_id="2", username="网格员", purpose="延迟 ✓")
    assert audit.verify_chain()[0]
