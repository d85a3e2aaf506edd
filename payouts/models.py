from django.conf import settings
from django.db import models
from django.db.models import JSONField, Q, Value
from django.db.models.functions import Now
from django.utils import timezone

from accounts.history import tracked
from accounts.models import MONEY, RATIO, Person


class PlanKind(models.TextChoices):
    CSM_REVENUE_RETENTION = "csm_revenue_retention", "CSM revenue retention"
    LOGO_RETENTION = "logo_retention", "Logo retention"
    AE_COMMISSION = "ae_commission", "AE commission"


@tracked("PlanVersionHistory")
class PlanVersion(models.Model):
    """The terms of a plan. A change is a new version; figures name the version they used."""

    plan = models.CharField(max_length=32, choices=PlanKind.choices)
    version = models.PositiveIntegerField()
    effective_from = models.DateField(help_text="Applies to quarters starting on or after this")
    description = models.TextField(blank=True, default="")
    target = models.DecimalField(**RATIO, null=True, blank=True)
    floor = models.DecimalField(**RATIO, null=True, blank=True)
    fraction_cap = models.DecimalField(
        **RATIO, null=True, blank=True, help_text="Highest bonus fraction; empty = uncapped"
    )
    rates = models.JSONField(
        default=dict,
        blank=True,
        help_text='Rate per bucket, e.g. {"new_annual": "0.25"}; a missing bucket uses '
        "quarterly target pay / quota",
    )
    guarantee = models.BooleanField(default=False)
    guarantee_months = models.PositiveSmallIntegerField(default=3)
    grace_months = models.PositiveSmallIntegerField(default=3)
    retained_threshold = models.DecimalField(**MONEY, default=500)
    medium_deal_size = models.DecimalField(**MONEY, default=20000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["plan", "version"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "version"], name="plan_version_unique"),
        ]

    def __str__(self):
        return f"{self.get_plan_display()} v{self.version}"


@tracked("PersonPlanHistory")
class PersonPlan(models.Model):
    """The plan, target and quota named for one person in one quarter (the `plans` file)."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="plans")
    quarter = models.CharField(max_length=6, help_text="e.g. 2025Q2")
    plan = models.CharField(max_length=32, choices=PlanKind.choices)
    target = models.DecimalField(**RATIO, null=True, blank=True)
    quota = models.DecimalField(**MONEY, null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["quarter", "person"]
        constraints = [
            models.UniqueConstraint(fields=["person", "quarter"], name="person_plan_per_quarter"),
            models.CheckConstraint(
                condition=Q(quarter__regex=r"^[0-9]{4}Q[1-4]$"), name="person_plan_quarter_format"
            ),
        ]

    def __str__(self):
        return f"{self.person} {self.quarter} {self.plan}"


@tracked("QuotaAmendmentHistory")
class QuotaAmendment(models.Model):
    """A manager's change of an AE's quota for a quarter, with the reason (SPEC 4.3)."""

    person_plan = models.ForeignKey(PersonPlan, on_delete=models.PROTECT, related_name="amendments")
    previous_quota = models.DecimalField(**MONEY, null=True, blank=True)
    new_quota = models.DecimalField(**MONEY)
    reason = models.TextField()
    amended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    amended_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-amended_at"]


class RecomputeRun(models.Model):
    """One recompute of a quarter for everyone (nightly, from the site or the command)."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    quarter = models.CharField(max_length=6)
    as_of = models.DateField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.RUNNING)
    total = models.IntegerField(default=0)
    done = models.IntegerField(default=0)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(auto_now_add=True)
    # When a person last finished (or the run started or was resumed): a running run quiet
    # for longer than RECOMPUTE_STALL_SECONDS, with no task on a worker, has lost its worker.
    # (Defaults in the database too, for rows written by SQL or by the previous release.)
    progressed_at = models.DateTimeField(default=timezone.now, db_default=Now())
    # The people the run covers, so that a resume redoes exactly those still missing.
    person_ids = models.JSONField(default=list, blank=True, db_default=Value([], JSONField()))
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            # Only one running recompute per quarter and as-of date: a second start joins it.
            models.UniqueConstraint(
                fields=["quarter", "as_of"],
                condition=Q(status="running"),
                name="one_running_recompute_per_quarter",
            ),
        ]


class AttainmentSnapshot(models.Model):
    """What a recompute found for one person and quarter, with every input it used."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="snapshots")
    quarter = models.CharField(max_length=6)
    as_of = models.DateField()
    final = models.BooleanField()
    plan_version = models.ForeignKey(PlanVersion, on_delete=models.PROTECT, related_name="+")
    inputs_digest = models.CharField(max_length=64)
    metric = models.DecimalField(**RATIO, null=True, blank=True)
    bonus_fraction = models.DecimalField(**RATIO)
    amount = models.DecimalField(**MONEY)
    payable = models.DecimalField(**MONEY)
    accounts_counted = models.IntegerField()
    accounts_excluded = models.IntegerField()
    inputs = models.JSONField()
    explanation = models.JSONField()
    run = models.ForeignKey(
        RecomputeRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="snapshots"
    )
    computed_at = models.DateTimeField()
    # The change whose refresh first stored these figures ("import #12: invoices from
    # day.csv"); empty for a run's. (Defaults in the database too: snapshots are written by SQL.)
    cause = models.CharField(max_length=300, blank=True, default="", db_default="")

    class Meta:
        ordering = ["-computed_at"]
        indexes = [models.Index(fields=["quarter", "person", "-computed_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["person", "quarter", "as_of", "inputs_digest"],
                name="snapshot_once_per_inputs",
            ),
        ]

    def __str__(self):
        return f"{self.person} {self.quarter} as of {self.as_of}"


class PayoutStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PENDING_APPROVAL = "pending_approval", "Pending approval"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    PAID = "paid", "Paid"


LOCKED_STATUSES = (PayoutStatus.APPROVED, PayoutStatus.PAID)


@tracked("PayoutHistory")
class Payout(models.Model):
    """One person's pay for one quarter: lines by bucket plus adjustments (SPEC 4.4).

    Once approved, the row and its lines cannot change: a database trigger refuses it,
    whatever the path (page, admin, bulk update); only approved -> paid is let through.
    """

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="payouts")
    quarter = models.CharField(max_length=6)
    plan_version = models.ForeignKey(PlanVersion, on_delete=models.PROTECT, related_name="+")
    snapshot = models.ForeignKey(
        AttainmentSnapshot, on_delete=models.PROTECT, related_name="payouts"
    )
    status = models.CharField(
        max_length=16, choices=PayoutStatus.choices, default=PayoutStatus.PENDING_APPROVAL
    )
    payout_date = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    rejection_comment = models.TextField(blank=True, default="")
    paid_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["quarter", "person"]
        constraints = [
            models.UniqueConstraint(fields=["person", "quarter"], name="one_payout_per_quarter"),
            models.CheckConstraint(
                condition=~Q(status__in=["approved", "paid"]) | Q(approved_by__isnull=False),
                name="payout_approved_has_approver",
            ),
            models.CheckConstraint(
                condition=~Q(status="paid") | Q(paid_on__isnull=False),
                name="payout_paid_has_date",
            ),
        ]

    def __str__(self):
        return f"{self.person} {self.quarter} ({self.status})"


@tracked("PayoutLineHistory")
class PayoutLine(models.Model):
    payout = models.ForeignKey(Payout, on_delete=models.PROTECT, related_name="lines")
    bucket = models.CharField(max_length=32)
    amount = models.DecimalField(**MONEY)
    source = models.TextField(blank=True, default="", help_text="Where the money comes from")

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return f"{self.bucket} {self.amount}"


@tracked("PayoutAdjustmentHistory")
class PayoutAdjustment(models.Model):
    payout = models.ForeignKey(Payout, on_delete=models.PROTECT, related_name="adjustments")
    amount = models.DecimalField(**MONEY)
    reason = models.TextField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]


class PayoutEvent(models.Model):
    """Every status change of a payout: who, when, from what to what, and why."""

    payout = models.ForeignKey(Payout, on_delete=models.PROTECT, related_name="events")
    from_status = models.CharField(max_length=16, blank=True, default="")
    to_status = models.CharField(max_length=16)
    comment = models.TextField(blank=True, default="")
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]


@tracked("InquiryHistory")
class Inquiry(models.Model):
    """A rep questions a line of their statement; finance answers and resolves it."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        RESOLVED = "resolved", "Resolved"

    payout = models.ForeignKey(Payout, on_delete=models.PROTECT, related_name="inquiries")
    bucket = models.CharField(max_length=32, blank=True, default="")
    text = models.TextField()
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    raised_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    answer = models.TextField(blank=True, default="")
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    adjustment = models.ForeignKey(
        PayoutAdjustment, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-raised_at"]
        verbose_name_plural = "inquiries"


class PlanAcceptance(models.Model):
    """A person acknowledged the plan version that applies to them for a quarter."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="acceptances")
    quarter = models.CharField(max_length=6)
    plan_version = models.ForeignKey(PlanVersion, on_delete=models.PROTECT, related_name="+")
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    accepted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["person", "quarter", "plan_version"], name="accept_once"
            ),
        ]


class ProposedAdjustment(models.Model):
    """A later recompute of an approved quarter found a different figure: finance turns the
    difference into an adjustment of the next open quarter, or dismisses it (SPEC 4.4)."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        APPLIED = "applied", "Applied"
        DISMISSED = "dismissed", "Dismissed"

    payout = models.ForeignKey(Payout, on_delete=models.PROTECT, related_name="differences")
    snapshot = models.ForeignKey(AttainmentSnapshot, on_delete=models.PROTECT, related_name="+")
    amount = models.DecimalField(**MONEY)
    cause = models.TextField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    applied_to = models.ForeignKey(
        PayoutAdjustment, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["payout", "snapshot"], name="one_difference_per_snapshot"
            ),
        ]
