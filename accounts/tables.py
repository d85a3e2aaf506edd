"""Tables of the accounts pages. Rows are plain objects prepared by the views (accounts
with their ARR and risk already attached), so every column sorts, ARR included."""

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from accounts.display.tables import TEMPLATE
from accounts.models import Invoice
from accounts.money import ZERO_CENTS, to_cents
from accounts.risk import health_band
from accounts.selectors import format_money

NUM = {"th": {"class": "num"}, "td": {"class": "num"}}


class MoneyColumn(tables.Column):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("attrs", NUM)
        super().__init__(*args, **kwargs)

    def render(self, value):
        return format_money(value)

    def value(self, value):
        """Exports carry the number to the cent (1234.50), not the display ($1,234.50)."""
        return "" if value is None else str(to_cents(value))


class BookTable(tables.Table):
    name = tables.Column(verbose_name="Account")
    external_id = tables.Column(verbose_name="External id")
    billing = tables.Column()
    segment = tables.Column()
    arr = MoneyColumn(verbose_name="ARR", accessor="arr")
    health_score = tables.Column(verbose_name="Health")
    sentiment = tables.Column()
    products = tables.Column(orderable=False)
    role = tables.Column()
    owner_since = tables.DateColumn(verbose_name="Owner since", format="Y-m-d")
    inherited = tables.Column(verbose_name="Inherited")
    risk = tables.Column(verbose_name="At risk", accessor="risk_count")

    class Meta:
        template_name = TEMPLATE
        attrs = {"class": "book"}
        order_by = ("name",)
        empty_text = "No accounts in this book match."

    def __init__(self, *args, show_role=False, reassign_to=None, on=None, **kwargs):
        """`reassign_to`: the people a manager may move these accounts to; with it, every
        row has a small reassign form (htmx: the row shows the result in place)."""
        if not show_role:
            kwargs.setdefault("exclude", ("role",))
        if reassign_to:
            kwargs["extra_columns"] = [(
                "reassign",
                tables.TemplateColumn(
                    template_name="accounts/_row_reassign.html",
                    extra_context={"team": reassign_to, "on": on},
                    verbose_name="Reassign",
                    orderable=False,
                    exclude_from_export=True,
                    empty_values=(),
                ),
            )]
        super().__init__(*args, **kwargs)

    def render_name(self, value, record):
        return format_html(
            '<a href="{}">{}</a>', reverse("account_detail", args=[record.id]), value
        )

    def render_billing(self, record):
        return record.get_billing_display()

    def render_health_score(self, value):
        return format_html('<span class="badge {}">{}</span>', health_band(value), value)

    def render_sentiment(self, record):
        return record.get_sentiment_display()

    def render_products(self, value):
        return ", ".join(value)

    def render_role(self, value):
        return {"ae": "AE", "csm": "CSM", "onboarding": "Onboarding"}.get(value, value)

    def render_inherited(self, value, record):
        if not value:
            return "no"
        if record.grace_until and record.in_grace:
            return format_html("yes, in grace until {}", record.grace_until.isoformat())
        return "yes"

    def value_inherited(self, value):
        return "yes" if value else "no"

    def value_risk(self, value, record):
        return "; ".join(record.risk_reasons)

    def render_risk(self, value, record):
        if not record.risk_reasons:
            return ""
        return format_html(
            '<span class="badge red">at risk</span><ul class="reasons">{}</ul>',
            format_html_join("", "<li>{}</li>", ((r,) for r in record.risk_reasons)),
        )


class InvoiceTable(tables.Table):
    external_id = tables.Column(verbose_name="Invoice")
    issued_on = tables.DateColumn(verbose_name="Issued", format="Y-m-d")
    period = tables.Column(accessor="period_start", verbose_name="Period")
    kind = tables.Column()
    status = tables.Column()
    amount = MoneyColumn()
    paid_on = tables.DateColumn(verbose_name="Paid on", format="Y-m-d")
    deal_external_id = tables.Column(verbose_name="Deal")

    class Meta:
        model = Invoice
        fields = (
            "external_id",
            "issued_on",
            "period",
            "kind",
            "status",
            "amount",
            "paid_on",
            "deal_external_id",
        )
        template_name = TEMPLATE
        order_by = ("-issued_on",)
        empty_text = "No invoices."

    def render_period(self, record):
        return f"{record.period_start:%Y-%m-%d} to {record.period_end:%Y-%m-%d}"

    def render_kind(self, record):
        return record.get_kind_display()

    def render_status(self, record):
        return record.get_status_display()


class TeamTable(tables.Table):
    name = tables.Column(verbose_name="Person")
    role = tables.Column(accessor="role_label")
    accounts = tables.Column(attrs=NUM)
    open_leads = tables.Column(verbose_name="Open leads", attrs=NUM)
    size = tables.Column(verbose_name="Book size", attrs=NUM)
    limit = tables.Column(verbose_name="Cap / target", attrs=NUM)
    status = tables.Column(verbose_name="Balance", accessor="limit_status")
    arr = MoneyColumn(verbose_name="Book ARR")

    class Meta:
        template_name = TEMPLATE
        order_by = ("name", "role")
        empty_text = "Nobody with a book in your team."

    def render_name(self, value, record):
        return format_html(
            '<a href="{}">{}</a>', reverse("person_book", args=[record.person_id]), value
        )

    def render_open_leads(self, value, record):
        return value if record.role == "ae" else "—"

    def render_limit(self, value, record):
        return f"{value} ({record.limit_kind})"

    def render_status(self, value, record):
        return format_html('<span class="{}">{}</span>', record.css, value)

    def value_open_leads(self, value, record):
        return value if record.role == "ae" else ""


class StageColumn(MoneyColumn):
    """A stage's weighted ARR: an owner with no deal in the stage has 0."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("empty_values", ())
        super().__init__(*args, **kwargs)

    def render(self, value):
        return super().render(ZERO_CENTS if value is None else value)

    def value(self, value):
        return super().value(ZERO_CENTS if value is None else value)


class PipelineTable(tables.Table):
    """The weighted pipeline by owner: ARR x probability of their open deals, by stage.
    Rows are `compapp.workspace.metrics.PipelineRow`s; stage columns are added for the stages that
    have deals."""

    owner = tables.Column(verbose_name="Owner")
    deals = tables.Column(verbose_name="Open deals", attrs=NUM)
    arr = MoneyColumn(verbose_name="ARR")
    weighted = MoneyColumn(verbose_name="Weighted pipeline")

    class Meta:
        template_name = TEMPLATE
        attrs = {"class": "pipeline"}
        order_by = ("-weighted",)
        empty_text = "No open deals."

    def __init__(self, rows, *, stages, stage_labels, linked=frozenset(), **kwargs):
        """`linked`: the owners whose book the viewer may open (their names link to it)."""
        self.linked = linked
        extra = [
            (
                f"stage_{stage}",
                StageColumn(
                    verbose_name=stage_labels[stage],
                    accessor=tables.A(f"by_stage__{stage}"),
                ),
            )
            for stage in stages
        ]
        sequence = ("owner", "deals", "arr", *(name for name, _column in extra), "weighted")
        super().__init__(rows, extra_columns=extra, sequence=sequence, **kwargs)

    def render_owner(self, value, record):
        if record.owner_id not in self.linked:
            return value
        return format_html(
            '<a href="{}">{}</a>', reverse("person_book", args=[record.owner_id]), value
        )
