from __future__ import annotations

from rest_framework import serializers

from accounts.fields import AddressField
from proposals.models import Proposal
from stxworx.fields import AmountField, LinkField, StrictIntegerField
from stxworx.pagination import PageQuery
from stxworx.serializers import StrictSerializer


class ProposalCreateInput(StrictSerializer):
    coverLetter = serializers.CharField(source="cover_letter", max_length=10000)
    proposedBudget = AmountField(source="proposed_budget")
    proposedDuration = StrictIntegerField(
        source="proposed_duration", min_value=1, max_value=3650, help_text="Days."
    )
    portfolioLinks = serializers.ListField(
        source="portfolio_links",
        child=LinkField(max_length=500),
        max_length=20,
        required=False,
    )
    freelancerAddress = AddressField(
        source="freelancer_address",
        required=False,
        help_text="Optional; must equal the signed-in address.",
    )


class ProposalFilter(PageQuery):
    status = serializers.ChoiceField(choices=Proposal.Status.choices, required=False)


class ProposalOutput(serializers.ModelSerializer):
    projectId = serializers.IntegerField(source="project_id")
    freelancerAddress = serializers.CharField(source="freelancer_address")
    coverLetter = serializers.CharField(source="cover_letter")
    proposedBudget = serializers.IntegerField(source="proposed_budget")
    proposedDuration = serializers.IntegerField(source="proposed_duration")
    portfolioLinks = serializers.ListField(source="portfolio_links", child=serializers.URLField())
    createdAt = serializers.DateTimeField(source="created_at")
    updatedAt = serializers.DateTimeField(source="updated_at")

    class Meta:
        model = Proposal
        fields = [
            "id",
            "projectId",
            "freelancerAddress",
            "coverLetter",
            "proposedBudget",
            "proposedDuration",
            "portfolioLinks",
            "status",
            "createdAt",
            "updatedAt",
        ]
