"""Accounts and their credentials: people sign in with a password and a second factor, machines with API keys.
`gateway/auth.py` checks these credentials on every request; people's accounts are opened, changed and revoked
through permission applications (`gateway/applications/`), all but the bootstrap administrator."""
