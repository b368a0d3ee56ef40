"""Deterministic bench data: 1,000 projects with 1-4 milestones each."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

from django.db import transaction

from projects.models import Milestone, Project, Token

SEED = 20250601
BASE_TIME = datetime(2025, 1, 1, tzinfo=UTC)
CLIENTS = [f"ST{n:02d}CLIENT{'X' * 28}" for n in range(8)]
FREELANCERS = [f"ST{n:02d}FREELANCER{'Y' * 24}" for n in range(8)]
STATUSES = list(Project.Status)
TITLES = ["Landing page", "Clarity audit", "Café menu app", "NFT mint site", "Données 📈"]
SKILLS = ["clarity", "react", "python", "design", "rust", "sql"]


def _at(rng: random.Random, minutes: int) -> datetime:
    # Every third timestamp on a whole second, so both isoformat() shapes appear.
    micro = 0 if minutes % 3 == 0 else rng.randrange(1, 1_000_000)
    return BASE_TIME + timedelta(minutes=minutes, microseconds=micro)


def _project(rng: random.Random, i: int) -> Project:
    status = STATUSES[i % len(STATUSES)]
    hired = status != Project.Status.OPEN
    return Project(
        title=f"{TITLES[i % len(TITLES)]} #{i}",
        description=f"Project {i}: "
        + "build, test and ship the thing. " * rng.randrange(2, 12)
        # A line separator now and then: DRF escapes it, the floor must too.
        + ("Second line.\u2028Third." if i % 10 == 9 else ""),
        category=["web", "smart-contracts", "", "design"][i % 4],
        skills=rng.sample(SKILLS, rng.randrange(0, 4)),
        token=Token.STX if i % 5 else Token.SBTC,
        budget=rng.randrange(1, 500) * 1_000_000,
        client_address=CLIENTS[i % len(CLIENTS)],
        freelancer_address=FREELANCERS[i % len(FREELANCERS)] if hired else "",
        status=status,
        on_chain_id=i + 1 if hired and i % 2 else None,
        funding_tx_id=f"0x{i:064x}" if hired and i % 2 else "",
    )


def _milestones(rng: random.Random, project: Project, i: int) -> list[Milestone]:
    result = []
    for number in range(1, (i * 7) % 4 + 2):  # 1..4, varied from project to project
        submitted = number % 2 == 0 and project.status != Project.Status.OPEN
        result.append(
            Milestone(
                project=project,
                number=number,
                title=f"Milestone {number}",
                description="" if number == 3 else f"Deliverable {number} of project {i}.",
                amount=rng.randrange(1, 100) * 10_000,
                due_date=date(2025, 3, 1) + timedelta(days=i + number) if i % 3 else None,
                status=Milestone.Status.SUBMITTED if submitted else Milestone.Status.LOCKED,
                submission_link=f"https://example.com/{i}/{number}" if submitted else "",
                submission_note="Done, see the link." if submitted else "",
                submitted_at=_at(rng, i * 37 + number * 60) if submitted else None,
                tx_hash=f"0x{i * 10 + number:064x}" if submitted else "",
            )
        )
    return result


@transaction.atomic
def seed(count: int = 1000) -> None:
    """Replace every project with `count` deterministic ones (timestamps 37 minutes apart)."""
    rng = random.Random(SEED)
    Project.objects.all().delete()
    projects = Project.objects.bulk_create([_project(rng, i) for i in range(count)])
    for i, project in enumerate(projects):
        # bulk_update skips auto_now/auto_now_add, so the fixed timestamps stick.
        project.created_at = _at(rng, i * 37)
        project.updated_at = project.created_at + timedelta(hours=i % 5)
    Project.objects.bulk_update(projects, ["created_at", "updated_at"], batch_size=500)
    Milestone.objects.bulk_create(
        [m for i, p in enumerate(projects) for m in _milestones(rng, p, i)]
    )
