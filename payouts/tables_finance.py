"""Tables and filters of the finance pages. Rows come from `payouts.finance` selectors with
their totals already annotated, so every money column sorts in the database."""

import django_filters
import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from accounts.display.tables import TEMPLATE
from accounts.models import Role, Team
from payouts.finance import money, needs_quota, projected_gap
from payouts.models import Payout, PayoutStatus

NUM = {"th": {"class": "num"}, "td": {"class": "num"}}
STATUS_BADGE = {"approved": "green", "paid": "green", "rejected": "red", "draft": "amber",
                "pending_approval": ""}


class QueueFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=PayoutStatus.choices, label="Status",
                                         empty_label="Any status")
    team = django_filters.ChoiceFilter(field_name="person__team", choices=Team.choices,
                                       label="Team", empty_label="Any team")
    role = django_filters.ChoiceFilter(choices=Role.choices, method="filter_role", label="Role",
                                       empty_label="Any role")

    class Meta:
        model = Payout
        fields = ["status", "team", "role"]

    def filter_role(self, queryset, name, value):
        return queryset.filter(person__roles__contains=[value])


class MoneyColumn(tables.Column):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("attrs", NUM)
        super().__init__(*args, **kwargs)

    def render(self, value):
        return money(value)

    def value(self, value):
        return f"{value:.2f}"


def status_badge(payout):
    return format_html('<span class="badge {}">{}</span>', STATUS_BADGE.get(payout.status, ""),
                       payout.get_status_display())


class QueueTable(tables.Table):
    person = tables.Column(accessor="person__name", verbose_name="Person",
                           order_by=("person__name", "person__email"))
    team = tables.Column(accessor="person__team", verbose_name="Team")
    plan = tables.Column(accessor="plan_version__plan", verbose_name="Plan")
    status = tables.Column()
    lines_total = MoneyColumn(verbose_name="Lines")
    adjustments_total = MoneyColumn(verbose_name="Adjustments")
    total_amount = MoneyColumn(verbose_name="Total")
    projected = MoneyColumn(verbose_name="Projected")
    gap = tables.Column(empty_values=(), orderable=False, verbose_name="vs projected",
                        attrs=NUM)
    open_inquiries = tables.Column(verbose_name="Open inquiries", attrs=NUM)
    flags = tables.Column(empty_values=(), orderable=False, verbose_name="Flags")
    actions = tables.TemplateColumn(template_name="finance/_payout_actions.html",
                                    extra_context={"in_queue": True}, orderable=False,
                                    verbose_name="", exclude_from_export=True)

    class Meta:
        template_name = TEMPLATE
        attrs = {"class": "queue"}
        row_attrs = {"id": lambda record: f"payout-{record.id}",
                     "data-status": lambda record: record.status}
        empty_text = "No payouts match."

    def __init__(self, *args, quarter, note=None, **kwargs):
        """`note`: (done, text) of an action just taken, shown in the actions cell of the
        row an htmx request answers."""
        self.quarter = quarter
        super().__init__(*args, **kwargs)
        if note is not None:
            self.columns["actions"].column.extra_context.update(ok=note[0], note=note[1])

    def render_person(self, value, record):
        return format_html('<a href="{}">{}</a>',
                           reverse("finance_payout", args=[record.id]), value)

    def render_team(self, record):
        return record.person.get_team_display()

    def render_plan(self, record):
        return f"{record.plan_version.get_plan_display()} v{record.plan_version.version}"

    def render_status(self, record):
        return status_badge(record)

    def value_status(self, record):
        return record.get_status_display()

    def render_gap(self, record):
        gap = projected_gap(record)
        return "" if gap is None else money(gap)

    def render_open_inquiries(self, value):
        return format_html('<span class="badge amber">{}</span>', value) if value else "0"

    def render_flags(self, record):
        flags = []
        if needs_quota(record, self.quarter):
            flags.append(mark_safe('<span class="badge red">AE past ramp, no quota</span>'))
        if record.open_differences:
            flags.append(format_html('<span class="badge amber">{} difference(s)</span>',
                                     record.open_differences))
        return format_html(" ".join(["{}"] * len(flags)), *flags) if flags else ""


class PlanAcceptanceTable(tables.Table):
    person = tables.Column(accessor="person__name", verbose_name="Person")
    email = tables.Column(accessor="person__email", verbose_name="Email")
    plan = tables.Column(accessor="version", verbose_name="Plan version")
    quota = tables.Column(accessor="person_plan__quota", verbose_name="Quota", attrs=NUM,
                          default="")
    accepted = tables.Column(accessor="acceptance", verbose_name="Acknowledged",
                             empty_values=(), order_by=("acceptance__accepted_at",))

    class Meta:
        template_name = TEMPLATE
        empty_text = "Nobody has a plan in this quarter."

    def render_quota(self, value):
        return money(value)

    def value_quota(self, value):
        return "" if value in (None, "") else f"{value:.2f}"

    def value_accepted(self, value):
        if value is None:
            return "not yet"
        by = value.accepted_by.get_username() if value.accepted_by else "?"
        return f"{value.accepted_at:%Y-%m-%d %H:%M} UTC by {by}"

    def render_accepted(self, value):
        if value is None:
            return mark_safe('<span class="badge amber">not yet</span>')
        by = value.accepted_by.get_username() if value.accepted_by else "?"
        return format_html('<span class="badge green">yes</span> {} UTC by {}',
                           f"{value.accepted_at:%Y-%m-%d %H:%M}", by)
