from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import (
    ArrayField,
    BigIntegerRangeField,
    DateRangeField,
    RangeOperators,
)
from django.db import models
from django.db.models import Case, F, Func, Q, Value, When

from accounts.history import tracked

MONEY = {"max_digits": 14, "decimal_places": 2}
RATIO = {"max_digits": 12, "decimal_places": 6}


class Role(models.TextChoices):
    AE = "ae", "Technical AE"
    CSM = "csm", "Technical CSM"
    ONBOARDING = "onboarding", "Onboarding specialist"
    MANAGER = "manager", "Manager"
    FINANCE = "finance", "Finance"
    REVOPS = "revops", "RevOps"


BOOK_ROLES = (Role.AE, Role.CSM, Role.ONBOARDING)


class Team(models.TextChoices):
    SALES = "sales", "Sales"
    CS = "cs", "Customer success"


class Region(models.TextChoices):
    EUROPE = "Europe", "Europe"
    US = "US", "US"


class Person(models.Model):
    email = models.EmailField(unique=True)
    name = models.CharField(max_length=200)
    employee_id = models.CharField(max_length=64, blank=True, default="")
    roles = ArrayField(models.CharField(max_length=16, choices=Role.choices), default=list)
    team = models.CharField(max_length=8, choices=Team.choices)
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    ote = models.DecimalField("annual OTE", **MONEY)
    variable_share = models.DecimalField(
        **RATIO, null=True, blank=True, help_text="Empty: 0.5 for AEs, 0.1 otherwise"
    )
    manager = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="reports"
    )
    region = models.CharField(max_length=8, choices=Region.choices, blank=True, default="")

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "people"
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")),
                name="person_end_after_start",
            ),
            models.CheckConstraint(condition=Q(ote__gte=0), name="person_ote_not_negative"),
        ]

    def __str__(self):
        return self.name

    def has_role(self, role):
        return role in self.roles

    @property
    def effective_variable_share(self):
        from decimal import Decimal

        if self.variable_share is not None:
            return self.variable_share
        return Decimal("0.5") if Role.AE in self.roles else Decimal("0.1")


class Billing(models.TextChoices):
    MONTHLY = "monthly", "Monthly"
    ANNUAL = "annual", "Annual"


class Sentiment(models.TextChoices):
    POSITIVE = "positive", "Positive"
    NEUTRAL = "neutral", "Neutral"
    NEGATIVE = "negative", "Negative"


PRODUCT_CATALOGUE = (
    "product analytics",
    "web analytics",
    "session replay",
    "feature flags",
    "experiments",
    "surveys",
    "data warehouse",
    "error tracking",
)


class Account(models.Model):
    external_id = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    billing = models.CharField(max_length=8, choices=Billing.choices)
    segment = models.CharField(max_length=64, blank=True, default="")
    health_score = models.SmallIntegerField(null=True, blank=True)
    sentiment = models.CharField(max_length=8, choices=Sentiment.choices, blank=True, default="")
    active_users = models.IntegerField(null=True, blank=True)
    products = ArrayField(models.CharField(max_length=64), default=list, blank=True)
    annual_contract_value = models.DecimalField(**MONEY, null=True, blank=True)
    contract_start = models.DateField(null=True, blank=True)
    contract_end = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(health_score__isnull=True)
                | Q(health_score__gte=0, health_score__lte=10),
                name="account_health_0_to_10",
            ),
            models.CheckConstraint(
                condition=Q(contract_end__isnull=True)
                | Q(contract_start__isnull=True)
                | Q(contract_end__gte=F("contract_start")),
                name="account_contract_end_after_start",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.external_id})"


class DateRange(Func):
    """daterange(start, end, '[]'): both ends inclusive; an open end is unbounded."""

    function = "DATERANGE"
    output_field = DateRangeField()


class AccountRoleKey(Func):
    """A one-point range standing for (account, role), so that the exclusion constraint needs
    only GiST's built-in range operators (no btree_gist extension, which embedded PostgreSQL
    builds lack): two assignments clash when their keys and their date ranges overlap."""

    function = "INT8RANGE"
    output_field = BigIntegerRangeField()

    def __init__(self):
        key = F("account_id") * 4 + Case(
            When(role="ae", then=Value(1)),
            When(role="csm", then=Value(2)),
            default=Value(3),
        )
        super().__init__(key, key, Value("[]"))


class AssignmentRole(models.TextChoices):
    AE = "ae", "AE"
    CSM = "csm", "CSM"
    ONBOARDING = "onboarding", "Onboarding"


@tracked("AssignmentHistory")
class Assignment(models.Model):
    """Who owns an account in a role, over time. Rows are ended, never rewritten."""

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="assignments")
    owner = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="assignments")
    role = models.CharField(max_length=16, choices=AssignmentRole.choices)
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True, help_text="Empty: current")
    inherited = models.BooleanField(default=False)
    reason = models.TextField(blank=True, default="")
    cap_override_reason = models.TextField(blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["account", "role", "start_date"]
        indexes = [models.Index(fields=["owner", "role", "start_date"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")),
                name="assignment_end_after_start",
            ),
            ExclusionConstraint(
                name="assignment_one_owner_per_role_per_day",
                expressions=[
                    (AccountRoleKey(), RangeOperators.OVERLAPS),
                    (
                        DateRange("start_date", "end_date", models.Value("[]")),
                        RangeOperators.OVERLAPS,
                    ),
                ],
                violation_error_message="This account already has an owner in that role "
                "on some of those days.",
            ),
        ]

    def __str__(self):
        end = self.end_date or "now"
        return f"{self.account.external_id} {self.role} {self.owner} {self.start_date}..{end}"


class Lead(models.Model):
    external_id = models.CharField(max_length=64, unique=True)
    owner = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="leads")
    segment = models.CharField(max_length=64)
    created_on = models.DateField()
    status = models.CharField(max_length=32, blank=True, default="open")

    class Meta:
        ordering = ["-created_on"]

    def __str__(self):
        return self.external_id


OPEN_LEAD_STATUSES = ("", "open", "new", "working")


class InvoiceKind(models.TextChoices):
    USAGE = "usage", "Usage"
    CONTRACT = "contract", "Contract"
    OVERAGE = "overage", "Overage"
    REFUND = "refund", "Refund"


class InvoiceStatus(models.TextChoices):
    OPEN = "open", "Open"
    PAID = "paid", "Paid"
    VOID = "void", "Void"


class Invoice(models.Model):
    # Indexes are chosen for bulk imports: the unique constraint (no extra pattern index),
    # (account, period_start) also serving lookups by account, a partial index for deals.
    external_id = models.CharField(max_length=64)
    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="invoices", db_index=False
    )
    issued_on = models.DateField()
    period_start = models.DateField()
    period_end = models.DateField()
    amount = models.DecimalField(**MONEY)
    kind = models.CharField(max_length=8, choices=InvoiceKind.choices)
    status = models.CharField(max_length=8, choices=InvoiceStatus.choices)
    paid_on = models.DateField(null=True, blank=True)
    deal_external_id = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        ordering = ["-issued_on"]
        indexes = [
            models.Index(fields=["account", "period_start"]),
            models.Index(
                fields=["deal_external_id"], condition=~Q(deal_external_id=""),
                name="invoice_deal_idx",
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["external_id"], name="invoice_external_id_unique"),
            models.CheckConstraint(
                condition=Q(period_end__gte=F("period_start")), name="invoice_period_order"
            ),
            models.CheckConstraint(
                condition=~Q(status="paid") | Q(paid_on__isnull=False),
                name="invoice_paid_has_date",
            ),
            models.CheckConstraint(
                condition=Q(kind="refund") | Q(amount__gte=0),
                name="invoice_only_refund_negative",
            ),
        ]

    def __str__(self):
        return self.external_id


class Usage(models.Model):
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="usage")
    month = models.DateField(help_text="First day of the month")
    amount = models.DecimalField(**MONEY)

    class Meta:
        ordering = ["account", "month"]
        verbose_name_plural = "usage"
        constraints = [
            models.UniqueConstraint(fields=["account", "month"], name="usage_one_per_month"),
            models.CheckConstraint(condition=Q(month__day=1), name="usage_month_first_day"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="usage_not_negative"),
        ]

    def __str__(self):
        return f"{self.account.external_id} {self.month:%Y-%m}"


class DealKind(models.TextChoices):
    NEW_ANNUAL = "new_annual", "New annual"
    EXPANSION_ANNUAL = "expansion_annual", "Expansion annual"
    MONTHLY = "monthly", "Monthly"
    MONTHLY_TO_ANNUAL = "monthly_to_annual", "Monthly to annual"


class DealStage(models.TextChoices):
    LEAD = "lead", "Lead"
    DEMO = "demo", "Demo"
    PROPOSAL = "proposal", "Proposal"
    WON = "won", "Won"
    LOST = "lost", "Lost"


OPEN_STAGES = (DealStage.LEAD, DealStage.DEMO, DealStage.PROPOSAL)  # not decided yet


class PaymentSchedule(models.TextChoices):
    UPFRONT = "upfront", "Upfront"
    QUARTERLY = "quarterly", "Quarterly"
    MONTHLY = "monthly", "Monthly"


class Deal(models.Model):
    external_id = models.CharField(max_length=64, unique=True)
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="deals")
    owner = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="deals")
    kind = models.CharField(max_length=20, choices=DealKind.choices)
    arr = models.DecimalField("ARR", **MONEY)
    stage = models.CharField(max_length=10, choices=DealStage.choices)
    probability = models.DecimalField(**RATIO, null=True, blank=True)
    created_on = models.DateField()
    demo_on = models.DateField(null=True, blank=True)
    closed_on = models.DateField(null=True, blank=True)
    payment_schedule = models.CharField(
        max_length=10, choices=PaymentSchedule.choices, blank=True, default=""
    )

    class Meta:
        ordering = ["-created_on"]
        indexes = [models.Index(fields=["owner", "stage", "closed_on"])]
        constraints = [
            models.CheckConstraint(condition=Q(arr__gte=0), name="deal_arr_not_negative"),
        ]

    def __str__(self):
        return self.external_id


class ImportKind(models.TextChoices):
    PEOPLE = "people", "People"
    ACCOUNTS = "accounts", "Accounts"
    ASSIGNMENTS = "assignments", "Assignments"
    INVOICES = "invoices", "Invoices"
    USAGE = "usage", "Usage"
    DEALS = "deals", "Deals"
    PLANS = "plans", "Plans"
    LEADS = "leads", "Leads"


class ImportRun(models.Model):
    """One successful (or dry-run) import of a file; pages show when data last arrived."""

    kind = models.CharField(max_length=16, choices=ImportKind.choices)
    filename = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    rows = models.IntegerField(default=0)
    created = models.IntegerField(default=0)
    updated = models.IntegerField(default=0)
    unchanged = models.IntegerField(default=0)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    imported_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-imported_at"]

    def __str__(self):
        return f"{self.kind} {self.filename} {self.imported_at:%Y-%m-%d %H:%M}"


class RowChange(models.Model):
    """The history of a row changed by an import or a service: before and after."""

    model = models.CharField(max_length=64)
    key = models.CharField(max_length=200)
    before = models.JSONField(default=dict)
    after = models.JSONField(default=dict)
    source = models.CharField(max_length=200)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-changed_at"]
        indexes = [models.Index(fields=["model", "key"])]

    def __str__(self):
        return f"{self.model} {self.key} by {self.source}"


class FeatureRequest(models.Model):
    """What a customer asked for, and how much they care (SPEC 8)."""

    class Importance(models.TextChoices):
        LOW = "low", "Nice to have"
        MEDIUM = "medium", "Important"
        HIGH = "high", "Critical to them"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        PLANNED = "planned", "Planned"
        SHIPPED = "shipped", "Shipped"
        DECLINED = "declined", "Declined"

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="feature_requests")
    request = models.TextField()
    importance = models.CharField(max_length=8, choices=Importance.choices)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    churn_risk = models.BooleanField(default=False)
    logged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    logged_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-logged_at"]

    def __str__(self):
        return f"{self.account.external_id}: {self.request[:40]}"


class Handoff(models.Model):
    """An AE proposes moving an account to a CSM; a manager approves or sends it back (SPEC 6)."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", "Proposed"
        APPROVED = "approved", "Approved"
        SENT_BACK = "sent_back", "Sent back"

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="handoffs")
    from_ae = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="handoffs_out")
    to_csm = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="handoffs_in")
    effective_date = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PROPOSED)
    # [{"user": "...", "contacted": true, "notes": "..."}] - one per active user
    contacts = models.JSONField(default=list, blank=True)
    other_team_could_use = models.BooleanField(null=True, blank=True)
    other_team_notes = models.TextField(blank=True, default="")
    teams_enterprise_would_help = models.BooleanField(null=True, blank=True)
    teams_enterprise_notes = models.TextField(blank=True, default="")
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    proposed_at = models.DateTimeField(auto_now_add=True)
    manager_comment = models.TextField(blank=True, default="")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-proposed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["account"], condition=Q(status="proposed"),
                name="one_open_handoff_per_account",
            ),
        ]


class StandupPick(models.Model):
    """An AE picked for a sales stand-up: everyone once per cycle before anyone twice."""

    region = models.CharField(max_length=8, choices=Region.choices)
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="standup_picks")
    cycle = models.PositiveIntegerField()
    picked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    picked_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-picked_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["region", "cycle", "person"], name="one_pick_per_cycle"
            ),
        ]
