"""The billing port's PostgreSQL adapter: I/O only; the values, requests and errors live in domain/ and ports/."""

from adapters.billing.system import PostgresBillingSystem

__all__ = ["PostgresBillingSystem"]
