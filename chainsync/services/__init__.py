"""chainsync.services.apply: pending events applied to the projection (see chainsync.indexer for
the poll, chainsync.log for the record)."""
