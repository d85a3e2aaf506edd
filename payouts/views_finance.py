"""Finance's pages (the queue, a payout's review, plan acknowledgements) and everyone's
statements. Each view checks access first (403 for a page of a role the user does not
hold, 404 for someone else's statement), then calls `payouts.finance` or
`payouts.services`; a refused action comes back as a message."""

import csv
import datetime

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django_tables2 import RequestConfig

from accounts.display.tables import configure
from accounts.forms import form_errors
from accounts.money import ZERO_CENTS
from accounts.permissions import person_for_user, require_role, roles_of, visible_people
from accounts.quarters import Quarter
from payouts import finance, services
from payouts.accrual import accruals
from payouts.finance import PayoutError
from payouts.finance import export as payroll
from payouts.models import Inquiry, Payout, ProposedAdjustment
from payouts.tables_finance import PlanAcceptanceTable, QueueFilter, QueueTable

QUEUE_PAGE_SIZE = 25  # like every other table; the totals above cover all pages


class AdjustmentForm(forms.Form):
    amount = forms.DecimalField(max_digits=14, decimal_places=2)
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))


class RejectForm(forms.Form):
    comment = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))


class PaidForm(forms.Form):
    paid_on = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))


class ResolveForm(forms.Form):
    answer = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))
    adjustment_amount = forms.DecimalField(
        max_digits=14, decimal_places=2, required=False,
        help_text="Optional: an adjustment resolving it (negative to claw back)")
    keep_open = forms.BooleanField(required=False, label="Answer only, keep it open")


class DismissForm(forms.Form):
    reason = forms.CharField()


class InquiryForm(forms.Form):
    bucket = forms.ChoiceField(label="Line", required=False)
    text = forms.CharField(label="Your question", widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, buckets=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["bucket"].choices = [("", "The statement as a whole")] + [
            (b, b.replace("_", " ")) for b in buckets]


def _back(request, *default, **kwargs):
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect(*default, **kwargs)


def _previous_quarter() -> Quarter:
    return Quarter.containing(datetime.date.today()).previous()


# ---------------------------------------------------------------------------------------
# The queue


def finance_home(request):
    require_role(request.user, "finance")
    return redirect("finance_queue", quarter=_previous_quarter())


def queue(request, quarter):
    require_role(request.user, "finance")
    queue_filter = QueueFilter(request.GET or None, queryset=finance.payout_queue(quarter))
    table = QueueTable(queue_filter.qs, quarter=quarter)
    export = configure(request, table, filename=f"payout-queue-{quarter}", per_page=QUEUE_PAGE_SIZE)
    if export is not None:
        return export
    # The totals over every page, in one aggregate query (not by loading every payout), and
    # the same of the quarter before, to show how the grand total moved.
    now = finance.totals_by_person(queue_filter.qs)
    before = finance.totals_by_person(QueueFilter(
        request.GET or None, queryset=finance.payout_queue(quarter.previous())).qs)
    context = {
        "quarter": quarter,
        "previous": quarter.previous(),
        "next": quarter.next(),
        "filter": queue_filter,
        "table": table,
        "count": sum(t.count for t in now.values()),
        "grand_total": finance.money(sum((t.total for t in now.values()), ZERO_CENTS)),
        "pending": sum(t.pending for t in now.values()),
        "total_change": finance.total_change(now, before),
        "open_inquiries": finance.open_inquiries(quarter),
        "closable": datetime.date.today() > quarter.cutoff,
        "closed": Payout.objects.filter(quarter=str(quarter)).exists(),
        "accruals": [
            {"row": row, "held_back": finance.money(row.held_back),
             "carried_since": finance.money(row.carried_since),
             "still_owed": finance.money(row.still_owed)}
            for row in accruals(quarter)
        ],
    }
    return render(request, "finance/queue.html", context)


def quarter_close(request, quarter):
    """GET: what closing the quarter does, and a button to confirm; POST: close it."""
    require_role(request.user, "finance")
    if request.method != "POST":
        return render(request, "finance/close_confirm.html", {
            "quarter": quarter,
            "closable": datetime.date.today() > quarter.cutoff,
            "existing": Payout.objects.filter(quarter=str(quarter)).count(),
        })
    try:
        created = services.quarter_close(quarter=quarter, user=request.user)
    except PayoutError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{quarter} closed: {len(created)} new payout(s) pending "
                                  "approval.")
    return redirect("finance_queue", quarter=quarter)


def bulk_approve(request, quarter):
    """GET: every payout of the quarter pending approval, all selected, with their total;
    POST with `confirm`: approve the selected ones in one transaction (none if one is
    refused)."""
    require_role(request.user, "finance")
    pending = finance.payouts_with_totals(
        Payout.objects.filter(quarter=str(quarter), status="pending_approval")
    ).select_related("person", "plan_version").order_by("person__name", "person__email")
    if request.method == "POST" and request.POST.get("confirm"):
        ids = [int(i) for i in request.POST.getlist("payout") if i.isdigit()]
        chosen = [p.id for p in pending if p.id in set(ids)]
        if not chosen:
            messages.error(request, "No payout was selected: nothing was approved.")
            return redirect("finance_bulk_approve", quarter=quarter)
        try:
            approved = services.payouts_approve(payout_ids=chosen, user=request.user)
        except PayoutError as exc:
            messages.error(request, f"Nothing was approved: {exc}")
            return redirect("finance_bulk_approve", quarter=quarter)
        messages.success(request, f"{len(approved)} payout(s) of {quarter} approved.")
        return redirect("finance_queue", quarter=quarter)
    rows = list(pending)
    return render(request, "finance/approve_confirm.html", {
        "quarter": quarter,
        "rows": [{"payout": p, "total": finance.money(p.total_amount)} for p in rows],
        "total": finance.money(sum((p.total_amount for p in rows), ZERO_CENTS)),
    })


@require_POST
def differences_detect(request, quarter):
    require_role(request.user, "finance")
    try:
        found = finance.differences_detect(quarter, user=request.user)
    except PayoutError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{len(found)} new difference(s) found in {quarter}'s "
                                  "approved and paid payouts.")
    return redirect("finance_queue", quarter=quarter)


@require_POST
def statements_email(request, quarter):
    require_role(request.user, "finance")
    try:
        sent, skipped = finance.statements_email(
            quarter=quarter, user=request.user, site_url=request.build_absolute_uri("/")[:-1])
    except PayoutError as exc:
        messages.error(request, str(exc))
    else:
        note = f"; {skipped} not approved yet, not sent" if skipped else ""
        messages.success(request, f"{sent} statement(s) of {quarter} emailed{note}.")
    return redirect("finance_queue", quarter=quarter)


def export_csv(request, quarter):
    """The payroll CSV, exactly as `manage.py export_payouts` writes it."""
    require_role(request.user, "finance")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="payouts-{quarter}.csv"'
    writer = csv.writer(response, lineterminator="\n")
    writer.writerow(payroll.EXPORT_COLUMNS)
    writer.writerows(payroll.payouts_export_rows(quarter))
    return response


# ---------------------------------------------------------------------------------------
# One payout


def payout_review(request, payout_id):
    require_role(request.user, "finance")
    return _review(request, finance.get_payout_for_finance(request.user, payout_id))


def _review(request, payout, adjust_form=None, status=200):
    """The payout's page; `adjust_form` keeps what was typed in a refused adjustment."""
    quarter = Quarter.parse(payout.quarter)
    statement = finance.statement_for(payout.person, quarter, viewer=request.user)
    for inquiry in statement.open_inquiries:
        inquiry.form = ResolveForm(auto_id=f"id_inquiry{inquiry.id}_%s")
    context = {
        "payout": payout,
        "quarter": quarter,
        "statement": statement,
        "events": payout.events.select_related("by"),
        "differences": finance.displayed(
            payout.differences.select_related("applied_to__payout", "snapshot")),
        "total": finance.money(payout.total_amount),
        "next_open": finance.next_open_payout(payout.person, payout.quarter),
        "explanation_url": finance.attainment_url(payout.person_id, quarter),
        "adjust_form": adjust_form or AdjustmentForm(),
        "locked": payout.status in ("approved", "paid"),
    }
    return render(request, "finance/payout_review.html", context, status=status)


def _status_change(request, payout, action):
    if action == "approve":
        services.payout_approve(payout_id=payout.id, user=request.user)
        return "approved"
    if action == "resubmit":
        services.payout_resubmit(payout_id=payout.id, user=request.user)
        return "sent back for approval"
    if action == "reject":
        form = RejectForm(request.POST)
        if not form.is_valid():
            raise PayoutError("A rejection needs a comment saying what to fix.")
        services.payout_reject(payout_id=payout.id, user=request.user,
                               comment=form.cleaned_data["comment"])
        return "rejected"
    form = PaidForm(request.POST)
    if not form.is_valid():
        raise PayoutError(f"Not marked paid. {form_errors(form)}")
    services.payout_mark_paid(payout_id=payout.id, user=request.user,
                              paid_on=form.cleaned_data["paid_on"])
    return "marked paid"


@require_POST
def payout_action(request, payout_id, action):
    """Approve, reject, mark paid or resubmit. From the queue with htmx (HX-Request), the
    answer is the payout's updated row, saying what was done; else a redirect back."""
    require_role(request.user, "finance")
    payout = get_object_or_404(Payout.objects.select_related("person"), id=payout_id)
    try:
        done = _status_change(request, payout, action)
    except PayoutError as exc:
        ok, text = False, str(exc)
    else:
        ok, text = True, f"{payout.person.name}'s {payout.quarter} payout {done}."
    if request.headers.get("HX-Request") and request.POST.get("from") == "queue":
        quarter = Quarter.parse(payout.quarter)
        table = QueueTable(finance.payout_queue(quarter).filter(id=payout.id), quarter=quarter,
                           note=(ok, text))
        RequestConfig(request, paginate=False).configure(table)
        return render(request, "finance/_queue_row.html", {"table": table})
    (messages.success if ok else messages.error)(request, text)
    return _back(request, "finance_payout", payout_id=payout.id)


@require_POST
def payout_adjust(request, payout_id):
    """Add an adjustment; a refused one shows the page again with what was typed and the
    field at fault."""
    require_role(request.user, "finance")
    payout = finance.get_payout_for_finance(request.user, payout_id)
    form = AdjustmentForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"Not adjusted. {form_errors(form)}")
        return _review(request, payout, form, status=400)
    try:
        services.payout_adjust(payout_id=payout.id, user=request.user,
                               amount=form.cleaned_data["amount"],
                               reason=form.cleaned_data["reason"])
    except PayoutError as exc:
        messages.error(request, f"Not adjusted. {exc}")
        return _review(request, payout, form, status=400)
    messages.success(request, "Adjustment added.")
    return redirect("finance_payout", payout_id=payout.id)


@require_POST
def inquiry_resolve(request, inquiry_id):
    require_role(request.user, "finance")
    inquiry = get_object_or_404(Inquiry, id=inquiry_id)
    form = ResolveForm(request.POST)
    adjusted = False
    try:
        if not form.is_valid():
            raise PayoutError(f"Not answered. {form_errors(form)}")
        data = form.cleaned_data
        resolved = finance.inquiry_resolve(
            inquiry_id=inquiry.id, user=request.user, answer=data["answer"],
            adjustment_amount=data["adjustment_amount"], resolve=not data["keep_open"])
        adjusted = resolved.adjustment_id is not None
    except PayoutError as exc:
        ok, text = False, str(exc)
    else:
        ok, text = True, ("Inquiry answered." if form.cleaned_data["keep_open"]
                          else "Inquiry resolved.")
    if request.headers.get("HX-Request"):
        return _inquiry_fragment(request, inquiry.id, ok, text, form, refresh=adjusted)
    (messages.success if ok else messages.error)(request, text)
    return _back(request, "finance_payout", payout_id=inquiry.payout_id)


def _inquiry_fragment(request, inquiry_id, ok, text, form, *, refresh):
    """The inquiry's card, answered (or with the refusal and the answer as typed). An
    adjustment changes the payout's totals too: then the whole page reloads."""
    inquiry = Inquiry.objects.select_related("raised_by", "answered_by", "adjustment").get(
        id=inquiry_id)
    inquiry.adjustment_display = finance.money(inquiry.adjustment.amount) \
        if inquiry.adjustment else ""
    inquiry.form = form if not ok else ResolveForm(auto_id=f"id_inquiry{inquiry.id}_%s")
    response = render(request, "finance/_inquiry.html", {
        "i": inquiry, "done": text if ok else "", "error": "" if ok else text})
    if refresh:
        response["HX-Refresh"] = "true"
    return response


@require_POST
def difference_apply(request, difference_id):
    require_role(request.user, "finance")
    difference = get_object_or_404(ProposedAdjustment, id=difference_id)
    try:
        applied = finance.difference_apply(difference.id, request.user)
    except PayoutError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Difference applied to {applied.applied_to.payout.quarter}.")
    return _back(request, "finance_payout", payout_id=difference.payout_id)


@require_POST
def difference_dismiss(request, difference_id):
    require_role(request.user, "finance")
    difference = get_object_or_404(ProposedAdjustment, id=difference_id)
    try:
        finance.difference_dismiss(difference.id, request.user, request.POST.get("reason", ""))
    except PayoutError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Difference dismissed.")
    return _back(request, "finance_payout", payout_id=difference.payout_id)


# ---------------------------------------------------------------------------------------
# Plans


def plans(request, quarter):
    require_role(request.user, "finance")
    rows = finance.plan_acceptances(quarter)
    table = PlanAcceptanceTable(rows)
    export = configure(request, table, filename=f"plan-acknowledgements-{quarter}", per_page=50)
    if export is not None:
        return export
    context = {
        "quarter": quarter, "previous": quarter.previous(), "next": quarter.next(),
        "table": table, "accepted": sum(1 for r in rows if r.acceptance), "count": len(rows),
    }
    return render(request, "finance/plans.html", context)


@require_POST
def plan_accept(request, quarter):
    me = person_for_user(request.user)
    if me is None:
        raise Http404("No plan to acknowledge")
    try:
        acceptance, created = finance.plan_accept(person=me, quarter=quarter,
                                                  user=request.user)
    except PayoutError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"You acknowledged {acceptance.plan_version} for {quarter}."
                         if created else f"You had already acknowledged your {quarter} plan.")
    return redirect("finance_my_statements")


# ---------------------------------------------------------------------------------------
# Statements


def my_statements(request):
    me = person_for_user(request.user)
    today_quarter = Quarter.containing(datetime.date.today())
    context = {"me": me, "payouts": [], "plans": [], "team": []}
    if me is not None:
        payouts = finance.displayed(finance.statements_of(me), "total_amount")
        quarters = sorted({today_quarter, today_quarter.next()}
                          | {Quarter.parse(p.quarter) for p in payouts[:4]}, reverse=True)
        context["payouts"] = payouts
        context["plans"] = [(q, row) for q in quarters
                            for row in finance.plan_acceptances(q, [me])]
    if "manager" in roles_of(request.user):
        try:
            team_quarter = Quarter.parse(request.GET.get("quarter", ""))
        except ValueError:
            team_quarter = today_quarter.previous()
        team = visible_people(request.user).exclude(id=me.id if me else None)
        context["team_quarter"] = team_quarter
        context["team"] = finance.displayed(finance.payouts_with_totals(
            Payout.objects.filter(quarter=str(team_quarter), person__in=team)
        ).order_by("person__name"), "total_amount")
    return render(request, "finance/statements.html", context)


def statement(request, person_id, quarter):
    person = finance.get_statement_person(request.user, person_id)
    own = person == person_for_user(request.user)
    data = finance.statement_for(person, quarter, viewer=request.user)
    context = {
        "s": data,
        "own": own,
        "finance": "finance" in roles_of(request.user),
        "printable": request.GET.get("print") == "1",
        "form": InquiryForm(buckets=data.buckets) if own and data.payout else None,
    }
    return render(request, "finance/statement.html", context)


@require_POST
def inquiry_raise(request, person_id, quarter):
    person = finance.get_statement_person(request.user, person_id)
    payout = get_object_or_404(Payout, person=person, quarter=str(quarter))
    data = finance.statement_for(person, quarter)
    form = InquiryForm(request.POST, buckets=data.buckets)
    try:
        if not form.is_valid():
            raise PayoutError(f"Not sent. {form_errors(form)}")
        finance.inquiry_raise(payout_id=payout.id, user=request.user,
                              bucket=form.cleaned_data["bucket"], text=form.cleaned_data["text"])
    except PayoutError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Your question was sent to finance.")
    return redirect("finance_statement", person_id=person.id, quarter=quarter)
