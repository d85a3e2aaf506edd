"""A person's statements: what they were paid and why, as a page, a text
and an e-mail."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from urllib.parse import quote

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db.models import (
    QuerySet,
)
from django.http import Http404
from django.template.loader import render_to_string

from accounts.models import Invoice, Person
from accounts.money import ZERO_CENTS
from accounts.permissions import person_for_user, roles_of, visible_people
from accounts.quarters import Quarter
from accounts.selectors import openable_account_ids
from payouts.finance.common import _require_finance, attainment_url, displayed, money
from payouts.finance.queue import payouts_with_totals
from payouts.models import (
    LOCKED_STATUSES,
    Inquiry,
    Payout,
    PayoutEvent,
)
from payouts.tables import account_url


@dataclass
class Statement:
    person: Person
    quarter: Quarter
    payout: Payout | None
    lines: list = field(default_factory=list)
    adjustments: list = field(default_factory=list)
    inquiries: list = field(default_factory=list)
    total: Decimal = ZERO_CENTS

    @property
    def open_inquiries(self) -> list:
        return [i for i in self.inquiries if i.status == Inquiry.Status.OPEN]

    @property
    def buckets(self) -> list[str]:
        seen = []
        for line in self.lines:
            if line.bucket not in seen:
                seen.append(line.bucket)
        return seen + (["adjustment"] if self.adjustments else [])

    @property
    def explanation_url(self) -> str:
        return attainment_url(self.person.id, self.quarter)

    @property
    def total_display(self) -> str:
        return money(self.total)


def get_statement_person(user, person_id: int) -> Person:
    """Whose statements this user may read: their own; a manager, their team's; finance,
    everyone. Anyone else gets 404, as if the person did not exist."""
    roles = roles_of(user)
    if "finance" in roles:
        people = Person.objects.all()
    elif "manager" in roles:
        people = visible_people(user)
    else:
        me = person_for_user(user)
        people = Person.objects.filter(id=me.id) if me else Person.objects.none()
    person = people.filter(id=person_id).first()
    if person is None:
        raise Http404("No such statement")
    return person


def statement_for(person: Person, quarter: Quarter, *, viewer=None) -> Statement:
    """The payout of the person's quarter as a statement; with `viewer`, the invoices its
    lines name link only to the account pages that user may open."""
    payout = (
        Payout.objects.filter(person=person, quarter=str(quarter))
        .select_related("plan_version", "approved_by")
        .first()
    )
    if payout is None:
        return Statement(person=person, quarter=quarter, payout=None)
    lines = displayed(payout.lines.all())
    _link_sources(person, quarter, payout, lines, viewer)
    adjustments = displayed(payout.adjustments.select_related("created_by"))
    total = (sum((x.amount for x in lines), ZERO_CENTS)
             + sum((a.amount for a in adjustments), ZERO_CENTS))
    inquiries = list(payout.inquiries.select_related("raised_by", "answered_by", "adjustment"))
    for inquiry in inquiries:
        inquiry.adjustment_display = money(inquiry.adjustment.amount) if inquiry.adjustment \
            else ""
    return Statement(person=person, quarter=quarter, payout=payout, lines=lines,
                     adjustments=adjustments, inquiries=inquiries, total=total)


_QUARTER_FIRST = re.compile(r"^(\d{4}Q[1-4])\b")
_NAMED = re.compile(r"paid after its cutoff: (.+)$")


def _link_sources(person: Person, quarter: Quarter, payout: Payout, lines, viewer) -> None:
    """Each line's way to its source: `source_url`, the computation that produced it (the
    payout's own snapshot for this quarter's figures, the quarter's figures for money
    carried from an earlier one), and `invoice_links`, [(invoice id, its account page)]
    for the invoices a carried line names."""
    named = {line.id: [n.strip() for n in match.group(1).split(",")]
             for line in lines if (match := _NAMED.search(line.source))}
    rows = list(Invoice.objects.filter(
        external_id__in={n for names in named.values() for n in names})
        .values("external_id", "account_id")) if named else []
    openable = (openable_account_ids(viewer, {r["account_id"] for r in rows})
                if viewer is not None and rows else None)
    pages = {r["external_id"]: f"{account_url(r['account_id'])}?invoice="
             f"{quote(r['external_id'])}#invoices"
             for r in rows if openable is None or r["account_id"] in openable}
    for line in lines:
        found = _QUARTER_FIRST.match(line.source)
        of = found.group(1) if found else str(quarter)
        line.source_url = attainment_url(person.id, of)
        if of == str(quarter) and payout.snapshot_id:
            line.source_url += f"&snapshot={payout.snapshot_id}"
        line.invoice_links = [(n, pages[n]) for n in named.get(line.id, []) if n in pages]


def statements_of(person: Person) -> QuerySet[Payout]:
    return payouts_with_totals(Payout.objects.filter(person=person)).order_by("-quarter")


def statement_text(statement: Statement, *, site_url: str = "") -> str:
    return render_to_string("finance/statement_email.txt", {
        "s": statement, "money": money, "site_url": site_url,
        "lines": [(x.bucket, money(x.amount), x.source) for x in statement.lines],
        "adjustments": [(money(a.amount), a.reason) for a in statement.adjustments],
    })


def statements_email(*, quarter: Quarter, user, site_url: str = "") -> tuple[int, int]:
    """Email each person with an approved or paid payout of the quarter their statement as
    plain text; a payout not yet approved is skipped (its figure may still change).
    Records who sent it and when on the payout's events. Returns (sent, skipped)."""
    _require_finance(user, "email statements")
    payouts = list(
        Payout.objects.filter(quarter=str(quarter)).select_related("person")
        .order_by("person__email")
    )
    ready = [p for p in payouts if p.status in LOCKED_STATUSES and p.person.email]
    messages = []
    for payout in ready:
        statement = statement_for(payout.person, quarter)
        messages.append(EmailMessage(
            subject=f"Your compensation statement for {quarter}",
            body=statement_text(statement, site_url=site_url),
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[payout.person.email],
        ))
    if messages:
        get_connection().send_messages(messages)
        PayoutEvent.objects.bulk_create([
            PayoutEvent(payout=p, from_status=p.status, to_status=p.status, by=user,
                        comment=f"statement emailed to {p.person.email}")
            for p in ready
        ])
    return len(messages), len(payouts) - len(ready)
