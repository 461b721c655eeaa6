"""The numbers a batch adjustment (批量调整) touched: made-up customers, each with a balance history.

The seed's -10 yuan clawback (stories/validity_shortened.py) went to 2,000 numbers; the story's customer
is one of them, the others are generated here, deterministically from their position in the batch, so
the same anchor always gives the same rows. What the batch did to each depends on where its validity
stood (see domain/remediation.py for how the engine tells them apart):

- shortened: still active, the validity now ends months earlier than before the batch;
- suspended: the shortened validity has since run out and the number is suspended;
- already past: the validity had run out before the batch came, so it took nothing that mattered;
- topped up: a recharge since the batch moved the validity past where it was before.

A harmless batch (a small goodwill credit that left every validity alone) touches every tenth number,
for contrast. Everything here is pure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from domain.clock import at_local
from sandboxes.boss_rows import BalanceRow, BatchMemberRow, BatchRow, BossRows, CustomerRow, customer_row

_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"

RECHARGE_FEN = 5000
PROMOTION_FEN = 1000
TOP_UP_FEN = 3000
CREDIT_FEN = 200  # the harmless batch's goodwill credit


class Fate(StrEnum):
    """What the batch did to a generated number, by construction (the engine works it out from the rows)."""

    SHORTENED = "shortened"
    SUSPENDED = "suspended"
    ALREADY_PAST = "already_past"
    TOPPED_UP = "topped_up"


# Out of every ten numbers: six shortened, two suspended, one already past validity, one topped up since.
_FATES = (Fate.SHORTENED,) * 6 + (Fate.SUSPENDED,) * 2 + (Fate.ALREADY_PAST, Fate.TOPPED_UP)


@dataclass(frozen=True)
class Member:
    """Someone the billing system registered: a name, an ID number and a China Mobile number."""

    name: str
    id_number: str
    msisdn: str


def fate_of(index: int) -> Fate:
    """What became of the number at `index` of the population (the fates repeat in turn)."""
    return _FATES[index % len(_FATES)]


def member(first_msisdn: int, index: int) -> Member:
    """The `index`-th generated customer of a number block starting at `first_msisdn`."""
    title = "先生" if index % 2 == 0 else "女士"
    born = date(1960, 1, 1) + timedelta(days=(index * 37) % 14_000)
    body = f"330106{born:%Y%m%d}{index % 1000:03d}"
    check = _ID_CHECK[sum(int(d) * w for d, w in zip(body, _ID_WEIGHTS, strict=True)) % 11]
    return Member(f"{_SURNAMES[index % len(_SURNAMES)]}{title}", body + check, str(first_msisdn + index))


def clawback_batch(batch_id: str, applied_at: datetime, amount_fen: int, reason: str) -> BatchRow:
    """The batch adjustment row of a clawback of over-credited promotion money."""
    description = "促销多返充值批量回收 (promotional over-credit clawed back)"
    return BatchRow(batch_id, applied_at, amount_fen, reason, description)


def population(
    anchor: date,
    batch: BatchRow,
    *,
    size: int,
    first_msisdn: int,
    credit_batch_id: str | None = None,
) -> BossRows:
    """`size` generated numbers the clawback `batch` touched, and the harmless credit batch if named.

    `batch.amount_fen` is negative (the clawback); each number got the promotion it claws back first.
    """
    customers: list[CustomerRow] = []
    history: list[BalanceRow] = []
    members: list[BatchMemberRow] = []
    credited: list[BatchMemberRow] = []
    credit_at = at_local(anchor - timedelta(days=60), 9, 0)
    for index in range(size):
        who = member(first_msisdn, index)
        fate = fate_of(index)
        before, after, status, final = _validities(anchor, index, fate)
        recharged_at = at_local(anchor - timedelta(days=150 + index % 30), 10, index % 60)
        balance = RECHARGE_FEN
        rows = [
            BalanceRow(who.msisdn, recharged_at, "recharge", RECHARGE_FEN, balance, None, before - timedelta(days=30),
                       "营业厅充值50元"),
        ]
        balance += PROMOTION_FEN
        rows.append(BalanceRow(who.msisdn, recharged_at + timedelta(minutes=5), "promotion", PROMOTION_FEN, balance,
                               before - timedelta(days=30), before, "充值送饮料活动返充"))
        if credit_batch_id is not None and index % 10 == 1:
            balance += CREDIT_FEN
            rows.append(BalanceRow(who.msisdn, credit_at, "batch_adjustment", CREDIT_FEN, balance, before, before,
                                   "网络故障话费补偿"))
            credited.append(BatchMemberRow(credit_batch_id, who.msisdn, credit_at))
        balance += batch.amount_fen
        rows.append(BalanceRow(who.msisdn, batch.applied_at, "batch_adjustment", batch.amount_fen, balance,
                               before, after, batch.reason))
        members.append(BatchMemberRow(batch.batch_id, who.msisdn, batch.applied_at))
        if fate is Fate.TOPPED_UP:
            balance += TOP_UP_FEN
            rows.append(BalanceRow(who.msisdn, at_local(anchor - timedelta(days=2), 15, index % 60), "recharge",
                                   TOP_UP_FEN, balance, after, final, "自助充值30元"))
        history += rows
        customers.append(
            customer_row(
                who, plan="SZX-18", brand="神州行", opened_at=at_local(anchor - timedelta(days=900), 9, 0),
                balance_fen=balance, validity_until=final, status=status,
            )
        )
    batches = [batch]
    if credit_batch_id is not None:
        batches.append(BatchRow(credit_batch_id, credit_at, CREDIT_FEN, "网络故障话费补偿",
                                "goodwill credit after a network fault: validity untouched"))
    return BossRows(customers=tuple(customers), balance_changes=tuple(history), batches=tuple(batches),
                    batch_rows=tuple(members + credited))


def _validities(anchor: date, index: int, fate: Fate) -> tuple[date, date, str, date]:
    """(validity before the batch, after it, status now, validity now) for a number of this fate."""
    if fate is Fate.SHORTENED:
        after = anchor + timedelta(days=5 + (index * 3) % 90)
        return after + timedelta(days=60 + (index * 7) % 400), after, "active", after
    if fate is Fate.SUSPENDED:  # cut to a day between the batch and yesterday, and run out since
        after = anchor - timedelta(days=1 + index % 4)
        return anchor + timedelta(days=60 + (index * 5) % 300), after, "suspended", after
    if fate is Fate.ALREADY_PAST:  # lapsed weeks before the batch came
        before = anchor - timedelta(days=40 + index % 20)
        return before, before - timedelta(days=30), "suspended", before - timedelta(days=30)
    before = anchor + timedelta(days=50 + index % 100)  # topped up two days ago, past the old validity
    return before, anchor + timedelta(days=3), "active", before + timedelta(days=90)
