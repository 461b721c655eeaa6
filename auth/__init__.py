"""Who acts: signed actor assertions (JWT), the embedded issuer, and the keys a worker trusts."""
