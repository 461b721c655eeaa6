"""In-memory fakes of the ports (ports/), for tests about orchestration rather than I/O.

They live under tests/ and not in ports/: nothing in production may wire one in by mistake, and they
need not carry the production code's guarantees beyond what the contract suites (tests/contracts/)
check against both them and the real adapters.
"""
