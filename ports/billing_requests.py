"""Requests to and receipts from the billing port: adjustments, actions, the ledger, cited records."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from domain.citations import Citation, charges
from domain.events import AdjustmentKind
from domain.intake import check_complaint_id
from domain.money import Fen
from domain.msisdn import Msisdn

IDEMPOTENCY_KEY = re.compile(r"^[!-~]{1,200}$")  # printable ASCII, no spaces
CODE = re.compile(r"^[A-Z0-9][A-Z0-9-]{1,31}$")


class _Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def check_idempotency_key(value: str) -> str:
    """The key itself, if it is 1-200 printable ASCII characters without spaces.

    Raises:
        ValueError: it is not.
    """
    if not isinstance(value, str) or not IDEMPOTENCY_KEY.match(value):
        raise ValueError("an idempotency key is 1-200 printable ASCII characters without spaces")
    return value


class CitedRecord(_Value):
    """A cited record as the billing system holds it now, and whether it still matches the citation."""

    citation: Citation
    content: dict[str, Any] | None  # None: the billing system no longer holds the record
    sha256: str | None

    @property
    def matches(self) -> bool:
        """Whether the record as held now still has the content the citation hashed."""
        return self.sha256 == self.citation.sha256


class AdjustmentRequest(BaseModel):
    """A change of money or validity made for a complaint, written to the ledger with its effect.

    - refund / double_refund: `amount_fen` (> 0) is credited to the balance. For a double refund it
      is the amount credited, i.e. twice the overcharge.
    - arrears_waiver: `amount_fen` must equal the arrears, which become zero.
    - validity_extension: sets the validity to `validity_until` (never earlier); `amount_fen` is 0.
    - sp_unsubscription: ends the subscription `sp_code`; `amount_fen` is 0 (refund money separately).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    idempotency_key: str
    complaint_id: str
    msisdn: Msisdn
    kind: AdjustmentKind
    amount_fen: Fen
    reason: str = Field(min_length=1, max_length=500)
    validity_until: date | None = None
    sp_code: str | None = None
    # The records the adjustment rests on; a money adjustment cites the charges it remedies.
    citations: list[Citation] = Field(default_factory=list, max_length=500)

    @field_validator("idempotency_key")
    @classmethod
    def _valid_key(cls, value: str) -> str:
        return check_idempotency_key(value)

    @field_validator("complaint_id")
    @classmethod
    def _valid_complaint_id(cls, value: str) -> str:
        return check_complaint_id(value)

    @field_validator("reason")
    @classmethod
    def _has_text(cls, value: str) -> str:
        if not value.strip() or "\x00" in value:
            raise ValueError("the reason must be readable text")
        return value

    @field_validator("sp_code")
    @classmethod
    def _valid_sp_code(cls, value: str | None) -> str | None:
        if value is not None and not CODE.match(value):
            raise ValueError("an SP code is 2-32 capital letters, digits and '-'")
        return value

    @model_validator(mode="after")
    def _fits_kind(self) -> AdjustmentRequest:
        money = self.kind in ("refund", "double_refund", "arrears_waiver")
        if money and self.amount_fen == 0:
            raise ValueError(f"a {self.kind} needs an amount above zero")
        if not money and self.amount_fen != 0:
            raise ValueError(f"a {self.kind} moves no money: amount_fen must be 0 (refund separately)")
        if (self.kind == "validity_extension") != (self.validity_until is not None):
            raise ValueError("validity_until is required for, and only for, a validity_extension")
        if (self.kind == "sp_unsubscription") != (self.sp_code is not None):
            raise ValueError("sp_code is required for, and only for, an sp_unsubscription")
        if money and not charges(self.citations):
            raise ValueError(f"a {self.kind} must cite the charge it remedies (a citation with role 'charge')")
        if not money and charges(self.citations):
            raise ValueError(f"a {self.kind} moves no money: it cannot remedy a charge")
        if len({c.key for c in self.citations}) != len(self.citations):
            raise ValueError("each record is cited once")
        return self


class AdjustmentReceipt(_Value):
    """The ledger row of an adjustment and the account right after it."""

    ledger_id: str
    idempotency_key: str
    complaint_id: str
    msisdn: str
    kind: AdjustmentKind
    amount_fen: int
    validity_until: date | None
    sp_code: str | None
    reason: str
    balance_after_fen: int
    arrears_after_fen: int
    validity_after: date | None
    applied_at: AwareDatetime
    effective: bool  # True only for the call that applied it; a retry with the same key gets False
    citations: list[Citation] = Field(default_factory=list)


class LedgerEntry(_Value):
    """One row of the adjustment ledger, as `starter reconcile` compares it with the cases' events."""

    ledger_id: str
    idempotency_key: str
    complaint_id: str
    msisdn: str
    kind: AdjustmentKind
    amount_fen: int
    applied_at: AwareDatetime


class ActionReceipt(_Value):
    """The result of a non-money write (notice, block, report, incident, status, plan, payment).

    `reference` is the id of the record the write created, if any: the spam report (SR-...), the
    incident (INC-...), the payment (PAY-...).
    """

    action: str
    idempotency_key: str
    msisdn: str | None
    effective: bool  # True only for the call that changed something
    reference: str | None
    details: dict[str, Any]
    applied_at: AwareDatetime

