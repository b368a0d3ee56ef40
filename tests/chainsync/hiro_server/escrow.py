"""Happy-path escrow calls on a Chain, with matching args, transfers, prints and results."""

from __future__ import annotations

from collections.abc import Sequence

from stacks import ContractPrincipal, StandardPrincipal, UInt, bool_, ok, principal, uint
from tests.chainsync.hiro_server.chain import Chain
from tests.chainsync.hiro_server.model import Tx, stx, stx_sent_equal_to
from tests.chainsync.hiro_server.prints import events, milestone_fees

# --- escrow scenarios ----------------------------------------------------------------------


class Escrow:
    """Happy-path escrow calls with matching args, transfers, prints and results.

    Each returns the tx, mined alone in a new block unless `mine=False`. Amounts come from the
    chain's replayed state, so call them in chain order.
    """

    def __init__(self, chain: Chain) -> None:
        self.chain = chain

    def create_project_stx(
        self,
        *,
        client: str,
        freelancer: str,
        milestones: Sequence[int],
        project_id: int | None = None,
        mine: bool = True,
    ) -> Tx:
        slots = [*milestones, 0, 0, 0, 0][:4]
        state = self.chain.state()
        pid = project_id or len(state.projects) + 1
        fee = sum(milestone_fees(slots, state.fee_rate))
        contract = self.chain.contract_id
        return self._done(
            mine,
            self.chain.tx(
                "create-project-stx",
                sender=client,
                args=[principal(freelancer), *map(uint, slots)],
                transfers=[
                    stx(client, contract, sum(slots)),
                    stx(contract, self.chain.deployer, fee),
                ],
                post_conditions=[stx_sent_equal_to(client, sum(slots))],
                prints=[
                    events.project_created(
                        project_id=pid,
                        client=client,
                        freelancer=freelancer,
                        milestones=slots,
                        fee_rate=state.fee_rate,
                    )
                ],
                result=ok(uint(pid)),
            ),
        )

    def complete_milestone(
        self, *, freelancer: str, project_id: int, milestone: int, mine: bool = True
    ) -> Tx:
        return self._done(
            mine,
            self.chain.tx(
                "complete-milestone",
                sender=freelancer,
                args=[uint(project_id), uint(milestone)],
                prints=[
                    events.milestone_completed(
                        project_id=project_id, milestone=milestone, freelancer=freelancer
                    )
                ],
            ),
        )

    def file_dispute(
        self, *, sender: str, project_id: int, milestone: int, mine: bool = True
    ) -> Tx:
        return self._done(
            mine,
            self.chain.tx(
                "file-dispute",
                sender=sender,
                args=[uint(project_id), uint(milestone)],
                prints=[
                    events.dispute_filed(
                        project_id=project_id, milestone=milestone, filed_by=sender
                    )
                ],
            ),
        )

    def release_milestone_stx(
        self, *, client: str, project_id: int, milestone: int, mine: bool = True
    ) -> Tx:
        amount = self._amount(project_id, milestone)
        freelancer = self._party(project_id, "freelancer")
        return self._done(
            mine,
            self.chain.tx(
                "release-milestone-stx",
                sender=client,
                args=[uint(project_id), uint(milestone)],
                transfers=[stx(self.chain.contract_id, freelancer, amount)],
                prints=[
                    events.milestone_released(
                        project_id=project_id, milestone=milestone, amount=amount
                    )
                ],
                result=ok(uint(amount)),
            ),
        )

    def resolve_dispute_stx(
        self, *, project_id: int, milestone: int, to_freelancer: bool, mine: bool = True
    ) -> Tx:
        amount = self._amount(project_id, milestone)
        payee = self._party(project_id, "freelancer" if to_freelancer else "client")
        return self._done(
            mine,
            self.chain.tx(
                "admin-resolve-dispute-stx",
                sender=self.chain.deployer,
                args=[uint(project_id), uint(milestone), bool_(to_freelancer)],
                transfers=[stx(self.chain.contract_id, payee, amount)],
                prints=[
                    events.dispute_resolved(
                        project_id=project_id,
                        milestone=milestone,
                        released_to_freelancer=to_freelancer,
                        amount=amount,
                    )
                ],
                result=ok(uint(amount)),
            ),
        )

    def request_full_refund_stx(self, *, client: str, project_id: int, mine: bool = True) -> Tx:
        total = self.chain.state().projects[project_id]["total-amount"]
        assert isinstance(total, UInt)
        amount = total.value
        return self._done(
            mine,
            self.chain.tx(
                "request-full-refund-stx",
                sender=client,
                args=[uint(project_id)],
                transfers=[stx(self.chain.contract_id, client, amount)],
                prints=[events.full_refund(project_id=project_id, amount=amount, client=client)],
                result=ok(uint(amount)),
            ),
        )

    def _amount(self, project_id: int, milestone: int) -> int:
        amount = self.chain.state().milestones[(project_id, milestone)]["amount"]
        assert isinstance(amount, UInt)
        return amount.value

    def _party(self, project_id: int, role: str) -> str:
        party = self.chain.state().projects[project_id][role]
        assert isinstance(party, StandardPrincipal | ContractPrincipal)
        return party.address

    def _done(self, mine: bool, tx: Tx) -> Tx:
        if mine:
            self.chain.mine(tx)
        return tx
