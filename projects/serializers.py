from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.fields import AddressField
from files.serializers import DeliverableLinkField
from projects.models import MAX_MILESTONES, Dispute, Evidence, Milestone, Project, Review, Token
from stxworx.fields import (
    AmountField,
    JsonBooleanField,
    LinkField,
    QueryIntegerField,
    StrictIntegerField,
)
from stxworx.pagination import PageQuery
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


class ProjectFilter(PageQuery):
    status = serializers.ChoiceField(choices=Project.Status.choices, required=False)
    token = serializers.ChoiceField(choices=Token.choices, required=False)
    client = AddressField(required=False)
    freelancer = AddressField(required=False)
    category = serializers.CharField(max_length=80, required=False)
    search = serializers.CharField(max_length=200, required=False)


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
    submissionLink = DeliverableLinkField(max_length=1000)
    note = serializers.CharField(max_length=5000, required=False, allow_blank=True)


class ReviewInput(StrictSerializer):
    rating = StrictIntegerField(min_value=1, max_value=5)
    comment = serializers.CharField(max_length=5000, required=False, allow_blank=True)


class ReviewOutput(serializers.ModelSerializer):
    projectId = serializers.IntegerField(source="project_id")
    reviewerAddress = serializers.CharField(source="reviewer_address")
    revieweeAddress = serializers.CharField(source="reviewee_address")
    # Declared, not derived from the model: a model integer field's range comes from the database
    # (smallint on PostgreSQL, int64 on SQLite), and the schema must not depend on the backend.
    rating = serializers.IntegerField(min_value=1, max_value=5)
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


# --- disputes -----------------------------------------------------------------------------------


class EvidenceFileOutput(serializers.Serializer):
    cid = serializers.CharField(source="file_cid")
    sha256 = serializers.CharField(source="file_sha256")
    name = serializers.CharField(source="file_name")
    size = serializers.IntegerField(source="file_size")
    url = serializers.SerializerMethodField()

    def get_url(self, evidence: Evidence) -> str:
        return f"/api/files/{evidence.file_cid}"


class EvidenceOutput(serializers.Serializer):
    id = serializers.IntegerField()
    disputeId = serializers.IntegerField(source="dispute_id")
    submittedBy = serializers.CharField(source="submitted_by")
    description = serializers.CharField()
    links = serializers.ListField(child=serializers.CharField())
    file = serializers.SerializerMethodField()
    createdAt = serializers.DateTimeField(source="created_at")

    def get_file(self, evidence: Evidence) -> dict | None:
        return EvidenceFileOutput(evidence).data if evidence.file_cid else None


class DisputeStatementOutput(serializers.Serializer):
    party = serializers.ChoiceField(choices=Dispute.Party.choices)
    author = serializers.CharField()
    text = serializers.CharField()
    createdAt = serializers.DateTimeField(source="created_at")
    updatedAt = serializers.DateTimeField(source="updated_at")


class PartyStatementsOutput(serializers.Serializer):
    """Each side's statement, or null while that party has written none."""

    client = DisputeStatementOutput(allow_null=True)
    freelancer = DisputeStatementOutput(allow_null=True)


class DisputeOutput(serializers.Serializer):
    """What the parties see. The reviewer's rationale shows once the chain resolved it."""

    id = serializers.IntegerField()
    projectId = serializers.IntegerField(source="project_id")
    milestone = serializers.IntegerField(source="milestone_number")
    status = serializers.ChoiceField(choices=Dispute.Status.choices)
    filedBy = serializers.CharField(source="filed_by")
    filedTxId = serializers.CharField(source="filed_tx_id")
    filedBlockHeight = serializers.IntegerField(source="filed_block_height")
    filedAt = serializers.DateTimeField(source="filed_at")
    resolvedInFavorOf = BlankAsNull(source="resolved_in_favor_of", allow_null=True)
    closeReason = BlankAsNull(source="close_reason", allow_null=True)
    resolvedTxId = BlankAsNull(source="resolved_tx_id", allow_null=True)
    resolvedAt = serializers.DateTimeField(source="resolved_at", allow_null=True)
    statements = serializers.SerializerMethodField()
    rationale = serializers.SerializerMethodField()
    evidence = EvidenceOutput(many=True)

    @extend_schema_field(PartyStatementsOutput)
    def get_statements(self, dispute: Dispute) -> dict[str, dict | None]:
        sides: dict[str, dict | None] = {side: None for side in Dispute.Party.values}
        for statement in dispute.statements.all():  # prefetched by the selectors
            sides[statement.party] = DisputeStatementOutput(statement).data
        return sides

    def get_rationale(self, dispute: Dispute) -> str | None:
        from projects.selectors import dispute_published_rationale

        return dispute_published_rationale(dispute)


class ResolutionAttemptOutput(serializers.Serializer):
    txId = serializers.CharField(source="tx_id")
    releaseToFreelancer = serializers.BooleanField(source="release_to_freelancer")
    rationale = serializers.CharField()
    reviewer = serializers.CharField()
    recordedAt = serializers.DateTimeField(source="recorded_at")


class DisputeReviewerOutput(DisputeOutput):
    """What reviewers see: the resolution in progress too (the latest attempt's rationale,
    decision and tx), and every attempt recorded, oldest first."""

    rationale = BlankAsNull(allow_null=True)
    resolutionAttempts = ResolutionAttemptOutput(source="resolution_attempts.all", many=True)
    resolutionReleaseToFreelancer = serializers.BooleanField(
        source="resolution_release_to_freelancer", allow_null=True
    )
    resolutionTxId = BlankAsNull(source="resolution_tx_id", allow_null=True)
    resolutionBy = BlankAsNull(source="resolution_by", allow_null=True)
    resolutionRecordedAt = serializers.DateTimeField(
        source="resolution_recorded_at", allow_null=True
    )


class AdminDisputeListOutput(DisputeReviewerOutput):
    evidence = None  # a list shows no evidence, no statements
    statements = None
    resolutionAttempts = None
    token = serializers.CharField()
    amount = serializers.IntegerField(allow_null=True)
    projectTitle = serializers.CharField(source="project.title")


class AdminDisputeFilter(PageQuery):
    status = serializers.ChoiceField(choices=Dispute.Status.choices, required=False)
    token = serializers.ChoiceField(choices=Token.choices, required=False)
    project = QueryIntegerField(min_value=1, max_value=2**63 - 1, required=False)


class StatementInput(StrictSerializer):
    """Your side's statement; it replaces the one you gave before (while the dispute is open)."""

    statement = serializers.CharField(max_length=5000)


class EvidenceInput(StrictSerializer):
    description = serializers.CharField(max_length=10000)
    links = serializers.ListField(child=LinkField(max_length=1000), max_length=20, required=False)
    fileCid = serializers.CharField(max_length=128, required=False)


class ResolutionInput(StrictSerializer):
    txId = serializers.RegexField(
        r"^0x[0-9a-fA-F]{64}$",
        source="tx_id",
        error_messages={"invalid": "Must be a transaction id: 0x and 64 hex digits."},
    )
    rationale = serializers.CharField(max_length=10000)
    releaseToFreelancer = JsonBooleanField(source="release_to_freelancer")

    def validate_txId(self, value: str) -> str:
        return value.lower()  # as the indexer stores transaction ids


class AgreementOutput(serializers.Serializer):
    document = serializers.JSONField()
    sha256 = serializers.CharField()
    intact = serializers.BooleanField(help_text="The stored document still hashes to sha256.")
    acceptedAt = serializers.DateTimeField(source="accepted_at")


class TimelineEntryOutput(serializers.Serializer):
    at = serializers.DateTimeField(allow_null=True)
    source = serializers.ChoiceField(choices=["chain", "offchain"])
    kind = serializers.CharField()
    text = serializers.CharField()
    txId = serializers.CharField(required=False)
    blockHeight = serializers.IntegerField(required=False)
    canonical = serializers.BooleanField(required=False)


class PartyEvidenceOutput(serializers.Serializer):
    client = EvidenceOutput(many=True)
    freelancer = EvidenceOutput(many=True)


class ReviewFileOutput(serializers.Serializer):
    """An upload cited by the dispute, as the reviewers see it: with its pin status."""

    cid = serializers.CharField()
    sha256 = serializers.CharField()
    name = serializers.CharField()
    size = serializers.IntegerField()
    contentType = serializers.CharField(source="content_type")
    pinStatus = serializers.CharField(source="pin_status")
    pinError = BlankAsNull(source="pin_error", allow_null=True)
    url = serializers.SerializerMethodField()

    def get_url(self, stored) -> str:
        return f"/api/files/{stored.cid}"


class AttemptStateOutput(serializers.Serializer):
    txId = serializers.CharField(source="attempt.tx_id")
    releaseToFreelancer = serializers.BooleanField(source="attempt.release_to_freelancer")
    rationale = serializers.CharField(source="attempt.rationale")
    reviewer = serializers.CharField(source="attempt.reviewer")
    recordedAt = serializers.DateTimeField(source="attempt.recorded_at")
    state = serializers.ChoiceField(choices=["pending", "succeeded", "failed"])
    error = serializers.CharField(allow_null=True)


class DisputeReviewOutput(serializers.Serializer):
    dispute = DisputeReviewerOutput()
    project = ProjectOutput()
    milestone = MilestoneOutput(allow_null=True)
    agreement = AgreementOutput(allow_null=True)
    evidence = PartyEvidenceOutput()
    timeline = TimelineEntryOutput(many=True)
    chain = serializers.JSONField(
        help_text="{available, error, project, milestone, dispute, disagreements, inSync, "
        "tipHeight, tipHash, readAt}: the contract's read-only state, the Stacks tip and time it "
        "was read at, and each {field, database, chain} where they differ."
    )
    files = serializers.SerializerMethodField(
        help_text="The uploads cited (evidence files, an ipfs:// submission) by CID, with their "
        "pin status."
    )
    submissionCid = serializers.CharField(source="submission_cid", allow_null=True)
    attempts = AttemptStateOutput(many=True)
    resolveBlocked = serializers.CharField(source="resolve_blocked", allow_null=True)
    closingWarning = serializers.CharField(source="closing_warning", allow_null=True)

    def get_files(self, review) -> dict[str, dict]:
        return {cid: ReviewFileOutput(stored).data for cid, stored in review.files.items()}
