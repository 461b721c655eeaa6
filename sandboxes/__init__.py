"""Stand-ins for the outside systems (the billing system, a partner carrier) for the demo and the tests."""
