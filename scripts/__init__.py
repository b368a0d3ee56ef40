"""Developer scripts (wallet.py, typescript_client.py); a package so tests import them by name."""
