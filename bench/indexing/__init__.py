"""The indexer benchmark's parts (bench/indexer.py runs them)."""
