"""Delivery of what the engine owes the outside world.

TMF events to the hub's listeners, signed as Standard Webhooks, and notifications to people, both from outboxes written
with the events (see relay.py).
"""
