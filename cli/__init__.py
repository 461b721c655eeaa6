"""The command line (starter.py) pieces: connections, rendering, the demo."""
