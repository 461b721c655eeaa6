"""`python -m runtime up`: run the engine's services on this machine until Ctrl-C."""

from __future__ import annotations

import sys

from runtime.embedded import main

if __name__ == "__main__":
    sys.exit(main())
