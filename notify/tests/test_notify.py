"""Notifications: one inbox entry per user, idempotent per dedupe key, read only by their owner."""
import pytest
from django.urls import reverse

from notify.models import Notification
from notify.services import notify, unread_count


@pytest.fixture
def users(django_user_model):
    return [django_user_model.objects.create_user(username=f"u{i}", password="x-Renfang-2026!") for i in range(3)]


def test_notify_creates_one_entry_per_user_and_the_dedupe_key_makes_it_idempotent(users):
    first = notify(users, title="逾期走访", body="3户逾期", url="/fieldwork/", kind="reminder", dedupe_key="overdue:1")
    again = notify(users, title="逾期走访", dedupe_key="overdue:1")
    assert len(first) == 3 and again == []
    assert Notification.objects.filter(dedupe_key="overdue:1").count() == 3
    notify(users[0], title="另一条", dedupe_key="overdue:2")
    assert unread_count(users[0]) == 2


def test_without_a_dedupe_key_every_call_adds_an_entry(users):
    notify(users[:1], title="a")
    notify(users[:1], title="a")
    assert Notification.objects.filter(user=users[0]).count() == 2


def test_the_database_refuses_a_second_entry_with_the_same_key(users):
    from django.db import IntegrityError, transaction

    Notification.objects.create(user=users[0], title="a", dedupe_key="k")
    with pytest.raises(IntegrityError), transaction.atomic():
        Notification.objects.create(user=users[0], title="b", dedupe_key="k")


def test_the_inbox_shows_only_the_users_own_entries_and_marks_them_read(client, users):
    notify(users[0], title="给用户零的通知")
    notify(users[1], title="给用户一的通知")
    client.force_login(users[0])
    body = client.get(reverse("notify:inbox")).content.decode()
    assert "给用户零的通知" in body and "给用户一的通知" not in body
    other = Notification.objects.get(user=users[1])
    mine = Notification.objects.get(user=users[0])
    client.post(reverse("notify:mark_read"), {"id": [mine.pk, other.pk]})
    mine.refresh_from_db()
    other.refresh_from_db()
    assert mine.read_at is not None and other.read_at is None
    assert client.post(reverse("notify:open", args=[other.pk])).status_code == 404


def test_the_badge_counts_unread_entries_and_mark_all_read_clears_it(client, users):
    notify(users[0], title="一")
    notify(users[0], title="二")
    client.force_login(users[0])
    assert ">2</span>" in client.get(reverse("notify:badge")).content.decode()
    client.post(reverse("notify:mark_read"), {"all": "1"})
    assert "</span>" not in client.get(reverse("notify:badge")).content.decode()
    assert unread_count(users[0]) == 0


def test_opening_an_entry_follows_only_a_local_link(client, users):
    n = notify(users[0], title="外链", url="https://evil.example/")[0]
    client.force_login(users[0])
    r = client.post(reverse("notify:open", args=[n.pk]))
    assert r.status_code == 302 and r["Location"] == reverse("notify:inbox")


def test_the_inbox_needs_a_login(client):
    r = client.get(reverse("notify:inbox"))
    assert r.status_code == 302 and "login" in r["Location"]
