"""The billing adapter's non-money writes (notice, block, report, incident, status, plan, payment), once per key."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import asyncpg

from adapters.billing.adjustments import _lock_key
from adapters.billing.recording import _json, _Outcome, _same_request
from adapters.billing.rows import _end_subscription, _lock_customer, _require_customer
from domain.billing_records import SPAM_CENTRE, Channel, CustomerStatus
from domain.masking import scrub
from ports.billing_checks import (
    CUSTOMER_STATUSES,
    SENDER,
    valid_channel,
    valid_code,
    valid_key,
    valid_msisdn,
    valid_text,
)
from ports.billing_errors import BillingRefused, IdempotencyConflict, InvalidBillingRequest, UnknownTariffPlan
from ports.billing_requests import ActionReceipt


class BillingActions:
    """Writes that move no money; each is recorded in boss.actions with its key and outcome."""

    _pool: asyncpg.Pool

    async def cancel_number_change_notice(self, msisdn: str, idempotency_key: str) -> ActionReceipt:
        """Cancel the active number-change notice (改号通知); not effective if none was active."""
        number = valid_msisdn(msisdn)

        async def perform(conn: asyncpg.Connection) -> _Outcome:
            await _lock_customer(conn, number)
            row = await conn.fetchrow(
                """UPDATE boss.number_change_notices SET active = false, cancelled_at = now()
                    WHERE msisdn = $1 AND active RETURNING id, old_msisdn, old_carrier""",
                number,
            )
            if row is None:
                return _Outcome(False, None, {"notice_was_active": False})
            return _Outcome(
                True,
                f"NCN-{row['id']:06d}",
                {
                    "notice_was_active": True,
                    "old_msisdn": row["old_msisdn"],
                    "old_carrier": row["old_carrier"],
                },
            )

        return await self._act("cancel_number_change_notice", idempotency_key, number, {}, perform)

    async def settle_arrears(self, msisdn: str, idempotency_key: str) -> ActionReceipt:
        """The customer pays the arrears in full: a payment row (PAY-...) and arrears back to zero."""
        number = valid_msisdn(msisdn)
        key = valid_key(idempotency_key)

        async def perform(conn: asyncpg.Connection) -> _Outcome:
            customer = await _lock_customer(conn, number)
            owed = customer["arrears_fen"]
            if owed == 0:
                return _Outcome(False, None, {"amount_fen": 0})
            payment_id = await conn.fetchval(
                """INSERT INTO boss.payments (idempotency_key, msisdn, purpose, amount_fen)
                   VALUES ($1, $2, 'arrears_settlement', $3) RETURNING id""",
                key,
                number,
                owed,
            )
            await conn.execute("UPDATE boss.customers SET arrears_fen = 0 WHERE msisdn = $1", number)
            return _Outcome(True, f"PAY-{payment_id:06d}", {"amount_fen": owed})

        return await self._act("settle_arrears", key, number, {}, perform)

    async def unsubscribe_sp(self, msisdn: str, sp_code: str, idempotency_key: str) -> ActionReceipt:
        """End an SP subscription; not effective if it had already ended."""
        number = valid_msisdn(msisdn)
        code = valid_code(sp_code, "SP code")

        async def perform(conn: asyncpg.Connection) -> _Outcome:
            await _lock_customer(conn, number)
            ended = await _end_subscription(conn, number, code)
            return _Outcome(ended is not None, None, {"sp_code": code})

        return await self._act("unsubscribe_sp", idempotency_key, number, {"sp_code": code}, perform)

    async def block_web_sms(self, msisdn: str, idempotency_key: str) -> ActionReceipt:
        """Block web-originated SMS; this also stops services delivered that way (details['also_stops'])."""
        number = valid_msisdn(msisdn)
        key = valid_key(idempotency_key)

        async def perform(conn: asyncpg.Connection) -> _Outcome:
            await _lock_customer(conn, number)
            block_id = await conn.fetchval(
                """INSERT INTO boss.sms_blocks (idempotency_key, msisdn, kind)
                   VALUES ($1, $2, 'web_originated')
                   ON CONFLICT DO NOTHING RETURNING id""",
                key,
                number,
            )
            stops = await conn.fetchval(
                """SELECT coalesce(array_agg(service_name ORDER BY service_name), '{}')
                     FROM boss.sp_subscriptions
                    WHERE msisdn = $1 AND status = 'active' AND delivery_source = 'web'""",
                number,
            )
            reference = None if block_id is None else f"BLK-{block_id:06d}"
            return _Outcome(block_id is not None, reference, {"also_stops": list(stops)})

        return await self._act("block_web_sms", key, number, {}, perform)

    async def report_spam(self, msisdn: str, senders: Sequence[str], idempotency_key: str) -> ActionReceipt:
        """Report point-to-point spam senders to the spam centre (10086999); `reference` is the report id."""
        number = valid_msisdn(msisdn)
        key = valid_key(idempotency_key)
        if isinstance(senders, str) or not senders:
            raise InvalidBillingRequest("senders must be a non-empty list of sender numbers")
        reported: list[str] = []
        for sender in senders:
            if not isinstance(sender, str) or not SENDER.match(sender):
                raise InvalidBillingRequest(f"sender {scrub(str(sender))!r} is not a number of 3-20 digits")
            if sender not in reported:
                reported.append(sender)

        async def perform(conn: asyncpg.Connection) -> _Outcome:
            await _lock_customer(conn, number)
            report_id = await conn.fetchval(
                """INSERT INTO boss.spam_reports (idempotency_key, msisdn, senders, reported_to)
                   VALUES ($1, $2, $3, $4) RETURNING id""",
                key,
                number,
                reported,
                SPAM_CENTRE,
            )
            return _Outcome(True, f"SR-{report_id:06d}", {"senders": reported, "reported_to": SPAM_CENTRE})

        return await self._act("report_spam", key, number, {"senders": reported}, perform)

    async def raise_incident(
        self, channel: Channel, description: str, idempotency_key: str, msisdn: str | None = None
    ) -> ActionReceipt:
        """Report a faulty channel (e.g. the terminal missing days); `reference` is the incident id."""
        shown_by = valid_channel(channel)
        text = valid_text(description, "description", 2000)
        key = valid_key(idempotency_key)
        number = None if msisdn is None else valid_msisdn(msisdn)

        async def perform(conn: asyncpg.Connection) -> _Outcome:
            if number is not None:
                await _require_customer(conn, number)
            incident_id = await conn.fetchval(
                """INSERT INTO boss.incidents (idempotency_key, channel, description, msisdn)
                   VALUES ($1, $2, $3, $4) RETURNING id""",
                key,
                shown_by,
                text,
                number,
            )
            return _Outcome(True, f"INC-{incident_id:06d}", {"channel": shown_by})

        request = {"channel": shown_by, "description": text}
        return await self._act("raise_incident", key, number, request, perform)

    async def set_status(self, msisdn: str, status: CustomerStatus, idempotency_key: str) -> ActionReceipt:
        """Suspend, reactivate or cancel a number. A cancelled number stays cancelled."""
        number = valid_msisdn(msisdn)
        if status not in CUSTOMER_STATUSES:
            raise InvalidBillingRequest(f"status must be one of active, suspended, cancelled; got {status!r}")

        async def perform(conn: asyncpg.Connection) -> _Outcome:
            customer = await _lock_customer(conn, number)
            before = customer["status"]
            if before == status:
                return _Outcome(False, None, {"from": before, "to": status})
            if before == "cancelled":
                raise BillingRefused(f"{scrub(number)} is cancelled: it cannot become {status} again")
            await conn.execute(
                """UPDATE boss.customers
                      SET status = $2, cancelled_at = CASE WHEN $2 = 'cancelled' THEN now() END
                    WHERE msisdn = $1""",
                number,
                status,
            )
            return _Outcome(True, None, {"from": before, "to": status})

        return await self._act("set_status", idempotency_key, number, {"status": status}, perform)

    async def change_plan(self, msisdn: str, plan_code: str, idempotency_key: str) -> ActionReceipt:
        """Move the number to another tariff plan of the same account type (e.g. SZX-58 -> SZX-18)."""
        number = valid_msisdn(msisdn)
        code = valid_code(plan_code, "tariff plan")

        async def perform(conn: asyncpg.Connection) -> _Outcome:
            customer = await _lock_customer(conn, number)
            plan = await conn.fetchrow("SELECT account_type FROM boss.tariff_plans WHERE code = $1", code)
            if plan is None:
                raise UnknownTariffPlan(f"no tariff plan {code} in the billing system")
            before = customer["plan_code"]
            if before == code:
                return _Outcome(False, None, {"from": before, "to": code})
            if customer["status"] == "cancelled":
                raise BillingRefused(f"{scrub(number)} is cancelled: its plan cannot change")
            if plan["account_type"] != customer["account_type"]:
                raise BillingRefused(
                    f"{code} is a {plan['account_type']} plan; this number is {customer['account_type']}"
                )
            await conn.execute("UPDATE boss.customers SET plan_code = $2 WHERE msisdn = $1", number, code)
            return _Outcome(True, None, {"from": before, "to": code})

        return await self._act("change_plan", idempotency_key, number, {"plan_code": code}, perform)

    # --- the idempotent write, shared ------------------------------------------------------------

    async def _act(
        self,
        action: str,
        idempotency_key: str,
        msisdn: str | None,
        request: dict[str, Any],
        perform: Callable[[asyncpg.Connection], Awaitable[_Outcome]],
    ) -> ActionReceipt:
        """Run `perform` and record its outcome under the key, in one transaction, unless already done."""
        key = valid_key(idempotency_key)
        fingerprint = {"msisdn": msisdn, **request}
        async with self._pool.acquire() as conn, conn.transaction():
            await _lock_key(conn, key)
            first = await conn.fetchrow(
                "SELECT *, request::text AS request_text, details::text AS details_text"
                " FROM boss.actions WHERE idempotency_key = $1",
                key,
            )
            if first is not None:
                if first["action"] != action or not _same_request(first["request_text"], fingerprint):
                    raise IdempotencyConflict(
                        f"idempotency key {scrub(key)!r} was already used for another request ({first['action']}"
                        f" on {scrub(first['msisdn'] or '-')}): use a new key for a new request"
                    )
                return ActionReceipt(
                    action=action,
                    idempotency_key=key,
                    msisdn=msisdn,
                    effective=False,
                    reference=first["reference"],
                    details=json.loads(first["details_text"]),
                    applied_at=first["applied_at"],
                )
            if await conn.fetchval(
                "SELECT EXISTS (SELECT 1 FROM boss.adjustment_ledger WHERE idempotency_key = $1)", key
            ):
                raise IdempotencyConflict(f"idempotency key {scrub(key)!r} was already used for an adjustment")
            outcome = await perform(conn)
            applied_at = await conn.fetchval(
                """INSERT INTO boss.actions (idempotency_key, action, msisdn, request, effective, reference,
                       details)
                   VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7::jsonb) RETURNING applied_at""",
                key,
                action,
                msisdn,
                _json(fingerprint),
                outcome.effective,
                outcome.reference,
                _json(outcome.details),
            )
            return ActionReceipt(
                action=action,
                idempotency_key=key,
                msisdn=msisdn,
                effective=outcome.effective,
                reference=outcome.reference,
                details=json.loads(_json(outcome.details)),
                applied_at=applied_at,
            )

