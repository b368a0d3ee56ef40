"""The off-chain side of a batch: link the off-chain project funded by a project-created tx,
and keep each linked project in step with the projection, telling its parties what changed.

`Offchain.load` reads (and locks, in pk order) every off-chain project a batch can touch, with
its milestones, in a few queries. `Offchain.event_sync` then runs once per applied event, in
chain order, on the project's rows in memory: statuses are derived from the projection after
that event (so a replay gives the same result) and reached one legal transition at a time, along
the projects' transition tables, exactly as the projects services would (same checks, same
errors). An event whose step fails leaves no trace off chain (it works on a copy) and gets the
reason as its error; the chain is right whatever happens here. `save` writes the rows that
changed and the notifications in a few statements, once per batch.

Notifications are one per transition and event, as if applied one event at a time; DISPUTE_FILED
and DISPUTE_RESOLVED are per event (`Step._event_news`, where the dispute records of the projects
app are kept in step event by event).

batch.py holds `Offchain` (load, one step per event, save), step.py one event's `Step` on a
project's `State`, rules.py what the chain implies for the statuses and which events touch
disputes."""

from chainsync.offchain.batch import Offchain
from chainsync.offchain.rules import milestone_statuses_from_chain, project_status_from_chain
from chainsync.offchain.step import State, Step

__all__ = [
    "Offchain",
    "State",
    "Step",
    "milestone_statuses_from_chain",
    "project_status_from_chain",
]
