"""The complaint as filed at the counter, on the hotline or on the web."""

from __future__ import annotations

import re
from datetime import date
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

from domain.actors import Actor
from domain.cases import Category, IntakeChannel, Priority
from domain.errors import InvalidIntake
from domain.identity import IdNumber
from domain.msisdn import Carrier, Msisdn, carrier_of
from domain.validation import describe

if TYPE_CHECKING:
    from domain.events import ComplaintFiled

# Case ids become Temporal workflow ids, which are stored and shown in clear: a run of 11 or more
# digits could be a phone or ID number, so it is refused outright.
_COMPLAINT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{2,63}$")
_LONG_DIGIT_RUN = re.compile(r"\d{11,}")
_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")

MAX_DESCRIPTION_CHARS = 4000


def check_complaint_id(value: str) -> str:
    """A case id: 3-64 letters, digits, '.', '_' or '-', holding no phone or ID number."""
    if not _COMPLAINT_ID.match(value):
        raise ValueError("a case id is 3-64 letters, digits, '.', '_' or '-', starting with a letter or digit")
    if _LONG_DIGIT_RUN.search(value):
        raise ValueError("a case id may not contain a phone or ID number (11 or more digits in a row)")
    return value


class ComplaintIntake(BaseModel):
    """Everything needed to open a case. Free text is kept exactly as typed."""

    model_config = ConfigDict(frozen=True, str_strip_whitespace=False)

    complaint_id: str
    category: Category
    msisdn: Msisdn
    customer_name: str = Field(min_length=1, max_length=50)
    description: str = Field(min_length=1, max_length=MAX_DESCRIPTION_CHARS)
    priority: Priority = Priority.NORMAL
    channel: IntakeChannel = IntakeChannel.STORE
    id_number: IdNumber | None = None
    partner_msisdn: Msisdn | None = None
    # When the disputed charge (or other matter) began: the MIIT rules do not accept billing disputes about
    # charges older than 5 months, nor other disputes older than 2 years (domain.regulatory.admissibility).
    disputed_since: date | None = None
    filed_by: Actor

    @field_validator("complaint_id")
    @classmethod
    def _valid_id(cls, value: str) -> str:
        return check_complaint_id(value)

    @field_validator("customer_name", "description")
    @classmethod
    def _has_text(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        if "\x00" in value:
            raise ValueError("must not contain NUL characters")
        return value

    @field_validator("disputed_since", mode="before")
    @classmethod
    def _a_day(cls, value: object) -> object:
        # Only a calendar day as people write it: pydantic alone would also take a timestamp or a datetime.
        if value is None or value == "" or isinstance(value, date):
            return value or None
        if isinstance(value, str) and _ISO_DAY.match(value.strip()):
            try:
                return date.fromisoformat(value.strip())
            except ValueError as error:
                raise ValueError(f"{value!r} is not a day of the calendar ({error}): write YYYY-MM-DD") from None
        raise ValueError(f"{value!r} is not a day: write it as YYYY-MM-DD, e.g. 2026-06-15")

    @field_validator("disputed_since")
    @classmethod
    def _not_in_the_future(cls, value: date | None, info: ValidationInfo) -> date | None:
        # The edges validate with the store's `today` in the context; the filing command checks it again.
        today = info.context.get("today") if isinstance(info.context, dict) else None
        if value is not None and today is not None:
            check_disputed_since(value, today)
        return value

    @model_validator(mode="after")
    def _forwarding_needs_identity(self) -> ComplaintIntake:
        if self.category is Category.FORWARDING_CANCEL:
            if self.id_number is None:
                raise ValueError("forwarding_cancel needs the customer's ID number: the partner verifies it")
            if self.partner_msisdn is None:
                raise ValueError("forwarding_cancel needs the partner_msisdn that holds the call forwarding")
            if carrier_of(self.partner_msisdn) is Carrier.CHINA_MOBILE:
                raise ValueError("partner_msisdn must be another carrier's number: ours needs no partner")
        return self

    @property
    def partner_carrier(self) -> Carrier | None:
        """The partner carrier of the partner number, or None when the complaint names none."""
        return carrier_of(self.partner_msisdn) if self.partner_msisdn else None


def check_disputed_since(disputed_since: date, today: date) -> None:
    """Raise ValueError when the disputed matter is said to begin after `today` (the store's day of filing)."""
    if disputed_since > today:
        raise ValueError(
            f"{disputed_since.isoformat()} is after today ({today.isoformat()}): give the day the disputed "
            "charge or matter began, e.g. 2026-06-15"
        )


def refuse_future_dispute(
    intake: ComplaintIntake, today: date, refusal: type[Exception] = InvalidIntake
) -> None:
    """Raise `refusal` when the intake's disputed matter begins after `today`.

    The edges check it before filing (InvalidIntake); the filing command again, as InvalidCommand.
    """
    if intake.disputed_since is not None:
        try:
            check_disputed_since(intake.disputed_since, today)
        except ValueError as error:
            raise refusal(f"disputed_since: {error}") from None


def parse_intake(data: dict[str, object], today: date | None = None) -> ComplaintIntake:
    """Validate raw intake data, raising InvalidIntake with one readable line per problem.

    With `today` (the store's day, domain.clock.local_day), a `disputed_since` after it is refused too.
    """
    try:
        return ComplaintIntake.model_validate(data, context={"today": today})
    except ValidationError as error:
        raise InvalidIntake(describe(error)) from None


def intake_of_filed(filed: ComplaintFiled) -> ComplaintIntake:
    """The intake a case was filed with, read back from its ComplaintFiled event (a reopened run starts from it)."""
    return ComplaintIntake(
        complaint_id=filed.complaint_id,
        category=filed.category,
        priority=filed.priority,
        channel=filed.channel,
        msisdn=filed.msisdn,
        customer_name=filed.customer_name,
        description=filed.description,
        id_number=filed.id_number,
        partner_msisdn=filed.partner_msisdn,
        disputed_since=filed.disputed_since,
        filed_by=filed.actor,
    )
