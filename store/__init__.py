"""PostgreSQL: the event store, projections, the personal-data vault and the migrations."""
