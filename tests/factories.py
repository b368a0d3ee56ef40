from __future__ import annotations

import hashlib
import itertools

import factory

from accounts.models import User
from projects.models import Milestone, Project, Review
from proposals.models import Proposal
from stacks.c32 import TESTNET_SINGLE_SIG, address_from_hash160

_seq = itertools.count(1)


def make_address(seed: str | None = None) -> str:
    """A valid testnet single-sig address, distinct per call (or per seed)."""
    seed = seed if seed is not None else f"address-{next(_seq)}"
    return address_from_hash160(TESTNET_SINGLE_SIG, hashlib.sha256(seed.encode()).digest()[:20])


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("address",)

    address = factory.LazyFunction(make_address)
    display_name = factory.Sequence(lambda n: f"User {n}")


class ProjectFactory(factory.django.DjangoModelFactory):
    """An open project with `milestones` milestones of 10 STX each (gross)."""

    class Meta:
        model = Project
        skip_postgeneration_save = True

    class Params:
        milestone_amount = 10_000_000

    title = factory.Sequence(lambda n: f"Project {n}")
    description = "Build a thing."
    token = "STX"
    client_address = factory.LazyFunction(make_address)
    budget = factory.LazyAttribute(lambda o: o.milestone_amount * 2)

    @factory.post_generation
    def milestones(self, create: bool, extracted: int | None, **kwargs) -> None:
        count = extracted if extracted is not None else 2
        if not create or count == 0:
            return
        amount = self.budget // count
        for number in range(1, count + 1):
            last = number == count
            Milestone.objects.create(
                project=self,
                number=number,
                title=f"Milestone {number}",
                amount=self.budget - amount * (count - 1) if last else amount,
            )


class ProposalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Proposal

    project = factory.SubFactory(ProjectFactory)
    freelancer_address = factory.LazyFunction(make_address)
    cover_letter = "I can do this."
    proposed_budget = 20_000_000
    proposed_duration = 14


class ReviewFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Review

    rating = 5
