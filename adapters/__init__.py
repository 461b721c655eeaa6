"""The ports' production adapters: the billing system, partner carriers, batches and the notification outbox."""
