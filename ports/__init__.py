"""The ports: what workflows and activities may ask of the outside world, as protocols and messages."""
