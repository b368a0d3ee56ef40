from __future__ import annotations

from rest_framework import serializers

from projects.models import MAX_MILESTONES, Milestone, Project, Review, Token
from stxworx.fields import AddressField, AmountField, StrictIntegerField
from stxworx.serializers import StrictSerializer


class BlankAsNull(serializers.CharField):
    def to_representation(self, value: str) -> str | None:
        return value or None


class MilestoneInput(StrictSerializer):
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    amount = AmountField()
    dueDate = serializers.DateField(source="due_date", required=False, allow_null=True)


class ProjectCreateInput(StrictSerializer):
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=20000)
    category = serializers.CharField(max_length=80, required=False, allow_blank=True)
    skills = serializers.ListField(
        child=serializers.CharField(max_length=50), max_length=20, required=False
    )
    token = serializers.ChoiceField(choices=Token.choices)
    budget = AmountField()
    milestones = MilestoneInput(many=True, min_length=1, max_length=MAX_MILESTONES)


class ProjectUpdateInput(ProjectCreateInput):
    """Every top-level field optional. Not `partial=True`: that would leak into the nested
    milestones and let `{"title": "x"}` through as a whole milestone."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.required = False


class ProjectFilter(StrictSerializer):
    status = serializers.ChoiceField(choices=Project.Status.choices, required=False)
    token = serializers.ChoiceField(choices=Token.choices, required=False)
    client = AddressField(required=False)
    freelancer = AddressField(required=False)
    category = serializers.CharField(max_length=80, required=False)
    search = serializers.CharField(max_length=200, required=False)
    page = serializers.CharField(required=False)
    pageSize = serializers.CharField(required=False)


class MilestoneOutput(serializers.Serializer):
    # Plain serializers with every field declared: a ModelSerializer would introspect the model
    # and rebuild its fields on every request (12 % of a list request, bench/README.md).
    number = serializers.IntegerField()
    title = serializers.CharField()
    description = serializers.CharField()
    amount = serializers.IntegerField()
    dueDate = serializers.DateField(source="due_date", allow_null=True)
    status = serializers.ChoiceField(choices=Milestone.Status.choices)
    submissionLink = BlankAsNull(source="submission_link", allow_null=True)
    submissionNote = serializers.CharField(source="submission_note")
    submittedAt = serializers.DateTimeField(source="submitted_at", allow_null=True)
    txHash = BlankAsNull(source="tx_hash", allow_null=True)


class ProjectOutput(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    description = serializers.CharField()
    category = serializers.CharField()
    skills = serializers.ListField(child=serializers.CharField())
    token = serializers.ChoiceField(choices=Token.choices)
    budget = serializers.IntegerField()
    status = serializers.ChoiceField(choices=Project.Status.choices)
    clientAddress = serializers.CharField(source="client_address")
    freelancerAddress = BlankAsNull(source="freelancer_address", allow_null=True)
    onChainId = serializers.IntegerField(source="on_chain_id", allow_null=True)
    fundingTxId = BlankAsNull(source="funding_tx_id", allow_null=True)
    fundingError = BlankAsNull(source="funding_error", allow_null=True)
    milestones = MilestoneOutput(many=True)
    createdAt = serializers.DateTimeField(source="created_at")
    updatedAt = serializers.DateTimeField(source="updated_at")


class FundingInput(StrictSerializer):
    txId = serializers.RegexField(
        r"^0x[0-9a-fA-F]{64}$",
        source="tx_id",
        error_messages={"invalid": "Must be a transaction id: 0x and 64 hex digits."},
    )


class SubmissionInput(StrictSerializer):
    submissionLink = serializers.URLField(max_length=1000)
    note = serializers.CharField(max_length=5000, required=False, allow_blank=True)


class ReviewInput(StrictSerializer):
    rating = StrictIntegerField(min_value=1, max_value=5)
    comment = serializers.CharField(max_length=5000, required=False, allow_blank=True)


class ReviewOutput(serializers.ModelSerializer):
    projectId = serializers.IntegerField(source="project_id")
    reviewerAddress = serializers.CharField(source="reviewer_address")
    revieweeAddress = serializers.CharField(source="reviewee_address")
    createdAt = serializers.DateTimeField(source="created_at")

    class Meta:
        model = Review
        fields = [
            "id",
            "projectId",
            "reviewerAddress",
            "revieweeAddress",
            "rating",
            "comment",
            "createdAt",
        ]
