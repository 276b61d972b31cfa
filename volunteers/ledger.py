"""The ledger of hours and points (TimeOverflow's double entry): accounts, transfers of two or more movements that
sum to zero in each unit, balances as sums. Rows are only ever added (the database's triggers refuse UPDATE and
DELETE, see ``volunteers.guards``); a correction is a reversing transfer.

``balance_figures()`` is what the benchmark reads: the sum of every movement (0, always), the transfers and the
accounts."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Q, Sum
from django.utils.translation import pgettext

from volunteers.choices import AccountKind, TransferKind, Unit
from volunteers.models import ZERO, Account, Movement, Transfer

__all__ = ["balance", "balance_figures", "balances", "issuer_account", "post", "reverse", "service_account",
           "volunteer_account"]


def _placed(account: Account, obj) -> Account:
    account.grid_id, account.community_id, account.street_id = obj.grid_id, obj.community_id, obj.street_id
    return account


def _get_or_create(lookup: dict, make) -> Account:
    found = Account.objects.filter(**lookup).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            account = make()
            account.save()
            return account
    except IntegrityError:  # created meanwhile by another request
        return Account.objects.get(**lookup)


def volunteer_account(volunteer, unit: str) -> Account:
    return _get_or_create({"kind": AccountKind.VOLUNTEER, "volunteer": volunteer, "unit": unit}, lambda: _placed(
        Account(kind=AccountKind.VOLUNTEER, unit=unit, volunteer=volunteer,
                name=f"{volunteer.number} {Unit(unit).label}"), volunteer))


def issuer_account(community, unit: str) -> Account:
    """The community's account that issues hours and points (its balance is minus what it has issued)."""
    return _get_or_create({"kind": AccountKind.ISSUER, "community_id": community.pk, "unit": unit}, lambda: Account(
        kind=AccountKind.ISSUER, unit=unit, community_id=community.pk, street_id=community.street_id,
        name=f"{community.name}{pgettext('volunteers', '志愿服务')}{Unit(unit).label}"))


def service_account(reward) -> Account:
    return _get_or_create({"kind": AccountKind.SERVICE, "reward": reward, "unit": Unit.POINTS}, lambda: _placed(
        Account(kind=AccountKind.SERVICE, unit=Unit.POINTS, reward=reward, name=reward.name), reward))


def post(kind: str, key: str, legs: list[tuple[Account, Decimal]], *, occurred_on: dt.date, memo: str = "",
         signup=None, reverses: Transfer | None = None, booking=None, user=None) -> tuple[Transfer, bool]:
    """Write one transfer of ``legs`` (account, signed amount) once per ``key``: ``(transfer, created)``; the same
    key again returns the first transfer and writes nothing. Refused unless there are two legs or more, none zero,
    and the amounts of each unit sum to zero."""
    if len(legs) < 2:
        raise ValidationError(pgettext("volunteers", "一笔记账至少要有两条分录"))
    sums: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for account, amount in legs:
        amount = Decimal(amount)
        if amount == 0:
            raise ValidationError(pgettext("volunteers", "分录金额不能为零"))
        sums[account.unit] += amount
    if any(v != 0 for v in sums.values()):
        raise ValidationError(pgettext("volunteers", "借贷不平：每种单位的分录合计必须为零"))
    existing = Transfer.objects.filter(key=key).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            transfer = Transfer(kind=kind, key=key, occurred_on=occurred_on, memo=memo[:200], signup=signup,
                                reverses=reverses, booking=booking, created_by=user if user and user.pk else None)
            transfer.save()
            Movement.objects.bulk_create([Movement(transfer=transfer, account=a, unit=a.unit, amount=Decimal(v))
                                          for a, v in legs])
    except IntegrityError:
        existing = Transfer.objects.filter(Q(key=key) | Q(reverses=reverses) if reverses else Q(key=key)).first()
        if existing is None:
            raise
        return existing, False
    return transfer, True


def reverse(transfer: Transfer, *, user=None, memo: str = "", occurred_on: dt.date | None = None) -> Transfer:
    """The correction of ``transfer``: a new transfer with every movement negated (once; a reversal is never
    reversed itself: record the right entry instead)."""
    if transfer.kind == TransferKind.REVERSAL:
        raise ValidationError(pgettext("volunteers", "冲正记录不能再冲正，请重新核定"))
    if Transfer.objects.filter(reverses=transfer).exists():
        raise ValidationError(pgettext("volunteers", "这笔记账已经冲正过了"))
    legs = [(m.account, -m.amount) for m in transfer.movements.select_related("account")]
    out, _created = post(TransferKind.REVERSAL, f"reverse:{transfer.pk}", legs, reverses=transfer,
                         signup=transfer.signup, booking=transfer.booking, user=user,
                         occurred_on=occurred_on or transfer.occurred_on,
                         memo=memo or pgettext("volunteers", "冲正") + f" #{transfer.pk}")
    return out


def balance(account: Account) -> Decimal:
    return Movement.objects.filter(account=account).aggregate(s=Sum("amount"))["s"] or ZERO


def balances(volunteer) -> dict[str, Decimal]:
    """A volunteer's hours and points (sums of their accounts' movements)."""
    out = {Unit.HOURS.value: ZERO, Unit.POINTS.value: ZERO}
    rows = (Movement.objects.filter(account__volunteer=volunteer, account__kind=AccountKind.VOLUNTEER)
            .values("unit").annotate(s=Sum("amount")).order_by())
    for row in rows:
        out[row["unit"]] = row["s"] or ZERO
    return out


def balance_figures() -> dict:
    """The whole ledger: ``ledger_balance`` (the sum of every movement: 0), the transfers, the accounts, the
    movements, and the transfers whose own movements do not sum to zero in a unit (0)."""
    total = Movement.objects.aggregate(s=Sum("amount"))["s"] or ZERO
    unbalanced = (Movement.objects.values("transfer_id", "unit").annotate(s=Sum("amount")).order_by()
                  .exclude(s=0).values("transfer_id").distinct().count())
    per_transfer = Movement.objects.values("transfer_id").annotate(n=Count("id")).order_by().filter(n__lt=2).count()
    return {"ledger_balance": float(total), "transfers": Transfer.objects.count(),
            "accounts": Account._base_manager.count(), "movements": Movement.objects.count(),
            "unbalanced_transfers": unbalanced, "single_leg_transfers": per_transfer}
