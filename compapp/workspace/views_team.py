"""Pages of the team's rituals: AE to CSM hand-offs, the weekly stand-ups, the monthly
book balance and customers' feature requests (SPEC 6 and 8).

Each view checks access first (404 for objects that are not the user's to see, 403 for
pages of a role they do not hold), then calls selectors and services.
"""

import datetime

import django_tables2 as tables
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from accounts import feature_requests, selectors
from accounts.display.tables import TEMPLATE, configure
from accounts.forms import form_errors
from accounts.models import Role
from accounts.money import ZERO_CENTS, format_money
from accounts.permissions import person_for_user, require_role, roles_of
from accounts.quarters import Quarter
from accounts.services import ReassignError
from accounts.tables import MoneyColumn
from accounts.views import as_of
from compapp.workspace import balance as book_balance
from compapp.workspace import handoffs, standups
from compapp.workspace.forms import (
    FeatureRequestFilterForm,
    FeatureRequestForm,
    FeatureRequestStatusForm,
    HandoffDecisionForm,
    HandoffForm,
    contact_formset,
)

STANDUP_ROLES = ("manager", "finance", "revops")
REQUESTS_PAGE_SIZE = 50


# --- hand-offs ---------------------------------------------------------------------------


def handoff_new(request, account_id):
    """The AE's checklist to hand an account to a CSM."""
    account = selectors.get_account_for_user(request.user, account_id)
    me = person_for_user(request.user)
    today = timezone.localdate()
    refusal = None
    if me is None or Role.AE not in me.roles:
        refusal = "Only an AE can propose a hand-off to a CSM."
    elif not selectors.book_for(me, on=today, role=Role.AE).filter(id=account.id).exists():
        refusal = f"You do not own {account.name} as its AE; only its AE can hand it off."
    context = {
        "account": account,
        "refusal": refusal,
        "missing": handoffs.products_not_used(account),
        "rows": handoffs.contact_rows(account),
        "open": account.handoffs.filter(status="proposed").first(),
        "earlier": account.handoffs.exclude(status="proposed").select_related("from_ae", "to_csm"),
    }
    if refusal:
        return render(request, "team/handoff_new.html", context, status=403)
    previous = handoffs.last_sent_back(account, me)
    if request.method == "POST":
        form = HandoffForm(request.POST)
        contacts = contact_formset(context["rows"], request.POST)
        if form.is_valid() and contacts.is_valid():
            try:
                handoff = handoffs.handoff_propose(
                    account=account,
                    contacts=[f.cleaned_data for f in contacts.forms],
                    by_user=request.user,
                    **form.answers(),
                )
            except ReassignError as error:
                messages.error(request, f"Not proposed. {error}")
            else:
                messages.success(
                    request,
                    f"Hand-off of {account.name} to {handoff.to_csm.name} proposed; "
                    "your manager decides.",
                )
                return redirect("handoff_detail", handoff_id=handoff.id)
        else:
            messages.error(request, f"Not proposed. {form_errors(form)}")
    else:
        initial = {"effective_date": today + datetime.timedelta(days=1)}
        if previous is not None:
            initial |= {
                "to_csm": previous.to_csm_id,
                "other_team_could_use": {True: "yes", False: "no"}.get(
                    previous.other_team_could_use, ""
                ),
                "other_team_notes": previous.other_team_notes,
                "teams_enterprise_would_help": {True: "yes", False: "no"}.get(
                    previous.teams_enterprise_would_help, ""
                ),
                "teams_enterprise_notes": previous.teams_enterprise_notes,
            }
        form = HandoffForm(initial=initial)
        contacts = contact_formset(
            context["rows"], initial=previous.contacts if previous else None
        )
    context |= {"form": form, "contacts": contacts, "previous": previous}
    return render(request, "team/handoff_new.html", context)


def handoff_detail(request, handoff_id):
    """A hand-off with its checks (every "no" highlighted) and, for the AE's manager, the
    decision."""
    handoff = handoffs.get_handoff_for_user(request.user, handoff_id)
    if request.method == "POST":
        form = HandoffDecisionForm(request.POST)
        if not form.is_valid():
            messages.error(request, f"Nothing decided. {form_errors(form)}")
            return redirect("handoff_detail", handoff_id=handoff.id)
        decision, comment = form.cleaned_data["decision"], form.cleaned_data["comment"]
        try:
            if decision == "approve":
                assignment = handoffs.handoff_approve(
                    handoff=handoff, by_user=request.user, comment=comment
                )
                messages.success(
                    request,
                    f"Approved: {handoff.account.name} is {assignment.owner.name}'s (CSM, "
                    f"inherited) from {assignment.start_date:%Y-%m-%d}. Amend "
                    f"{handoff.from_ae.name}'s quota for the move.",
                )
            else:
                handoffs.handoff_send_back(handoff=handoff, by_user=request.user, comment=comment)
                messages.success(request, f"Sent back to {handoff.from_ae.name}.")
        except ReassignError as error:
            messages.error(request, f"Nothing decided. {error}")
        return redirect("handoff_detail", handoff_id=handoff.id)
    can_decide = (
        handoff.status == "proposed"
        and handoffs.team_of(request.user).filter(id=handoff.from_ae_id).exists()
    )
    checks = handoffs.handoff_checks(handoff)
    context = {
        "handoff": handoff,
        "checks": checks,
        "noes": sum(1 for c in checks if not c.ok),
        "form": HandoffDecisionForm() if can_decide else None,
        "moves": handoffs.quota_moves([handoff]),
    }
    return render(request, "team/handoff_detail.html", context)


def handoff_list(request):
    """Managers: the hand-offs waiting for them, those arriving to their CSMs (the AE's
    manager decides), and the approved moves to amend quotas for."""
    require_role(request.user, "manager")
    pending = list(handoffs.pending_handoffs(request.user))
    quarter = Quarter.containing(timezone.localdate())
    context = {
        "pending": [(h, sum(1 for c in handoffs.handoff_checks(h) if not c.ok)) for h in pending],
        "arriving": [
            (h, sum(1 for c in handoffs.handoff_checks(h) if not c.ok))
            for h in handoffs.arriving_handoffs(request.user)
        ],
        "moves": handoffs.approved_moves(request.user, since=quarter.start),
        "quarter": quarter,
    }
    return render(request, "team/handoff_list.html", context)


# --- stand-ups ---------------------------------------------------------------------------


def standup_sales(request, region):
    """The sales stand-up of a region: pick an AE (POST, managers), then their path to
    quota, accounts at risk and cross-adoption."""
    require_role(request.user, *STANDUP_ROLES)
    region = standups.region_from_slug(region)
    if region is None:
        raise Http404("No such region")
    on = as_of(request)
    if request.method == "POST":
        require_role(request.user, "manager")
        try:
            pick = standups.standup_pick(region=region, by_user=request.user, on=on)
        except ReassignError as error:
            messages.error(request, f"Nobody picked. {error}")
        else:
            messages.success(request, f"{pick.person.name} is up (cycle {pick.cycle}).")
        url = reverse("standup_sales", args=[region.lower()])
        return redirect(f"{url}?on={on:%Y-%m-%d}" if "on" in request.GET else url)
    pick = standups.latest_pick(request.user, region, on)
    context = {
        "region": region,
        "on": on,
        "pick": pick,
        "cycle": standups.standup_cycle(request.user, region, on),
        "can_pick": "manager" in roles_of(request.user),
    }
    if pick is not None:
        context |= {
            "path": standups.path_to_quota(pick.person, on),
            "at_risk": standups.ae_at_risk(pick.person, on),
            "adoption": standups.cross_adoption(standups.ae_book(pick.person, on)),
        }
    return render(request, "team/standup_sales.html", context)


def standup_cs(request):
    """The CS and onboarding stand-up: everyone's accounts at risk."""
    require_role(request.user, *STANDUP_ROLES)
    on = as_of(request)
    people = standups.cs_standup(request.user, on)
    context = {
        "on": on,
        "people": people,
        "at_risk_total": sum(len(p.at_risk) for p in people),
    }
    return render(request, "team/standup_cs.html", context)


# --- book balance ------------------------------------------------------------------------


def balance(request):
    """Managers' monthly review: every book against its role's size, with suggested moves."""
    require_role(request.user, "manager")
    on = as_of(request)
    rows = book_balance.balance_rows(request.user, on)
    context = {
        "on": on,
        "rows": rows,
        "suggestions": book_balance.balance_suggestions(rows),
        "ae_cap": settings.AE_BOOK_CAP,
    }
    return render(request, "team/balance.html", context)


# --- feature requests --------------------------------------------------------------------


def feature_request_new(request, account_id):
    """Log what a customer asked for (the account's AE or CSM, or their manager)."""
    account = selectors.get_account_for_user(request.user, account_id)
    today = timezone.localdate()
    if not feature_requests.can_log(request.user, account, today):
        raise PermissionDenied("Only the account's AE or CSM, or their manager, logs requests.")
    form = FeatureRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            feature_requests.feature_request_log(
                account=account, by_user=request.user, on=today, **form.cleaned_data
            )
        except ReassignError as error:
            messages.error(request, f"Not logged. {error}")
        else:
            messages.success(request, f"Feature request logged for {account.name}.")
            return redirect("account_detail", account_id=account.id)
    context = {"account": account, "form": form, "requests": account.feature_requests.all()}
    return render(request, "team/feature_request_new.html", context)


@require_POST
def feature_request_update(request, request_id):
    """Change a request's status or churn-risk mark."""
    fr = feature_requests.get_feature_request_for_user(request.user, request_id)
    form = FeatureRequestStatusForm(request.POST, instance=fr)
    if not form.is_valid():
        messages.error(request, f"Not changed. {form_errors(form)}")
    else:
        try:
            feature_requests.feature_request_update(
                feature_request=fr,
                status=form.cleaned_data["status"],
                churn_risk=form.cleaned_data["churn_risk"],
                by_user=request.user,
                on=timezone.localdate(),
            )
        except ReassignError as error:
            messages.error(request, f"Not changed. {error}")
        else:
            messages.success(request, "Feature request updated.")
    return redirect("account_detail", account_id=fr.account_id)


class FeatureRequestTable(tables.Table):
    account_name = tables.Column(verbose_name="Account")
    arr = MoneyColumn(verbose_name="Account ARR")
    request = tables.Column(verbose_name="Request", orderable=False)
    importance = tables.Column(accessor="importance_label", order_by=("importance_rank",))
    status = tables.Column(accessor="status_label")
    churn_risk = tables.Column(verbose_name="Churn risk")
    owners = tables.Column(verbose_name="Owners", orderable=False)
    logged = tables.Column(accessor="logged_at", verbose_name="Logged")

    class Meta:
        template_name = TEMPLATE
        attrs = {"class": "feature-requests"}
        order_by = ("-arr",)
        empty_text = "No feature requests match."

    def render_account_name(self, value, record):
        return format_html(
            '<a href="{}">{}</a>', reverse("account_detail", args=[record.account_id]), value
        )

    def render_churn_risk(self, value):
        return mark_safe('<span class="badge red">churn risk</span>') if value else ""

    def value_churn_risk(self, value):
        return "yes" if value else "no"

    def render_logged(self, value, record):
        by = f" by {record.logged_by}" if record.logged_by else ""
        return f"{timezone.localtime(value):%Y-%m-%d}{by}"


def feature_request_list(request):
    """Requests across the accounts a manager (or RevOps) may see, by the ARR of the
    accounts asking."""
    require_role(request.user, "manager", "revops")
    on = as_of(request)
    form = FeatureRequestFilterForm(request.GET or None)
    requests = feature_requests.visible_requests(request.user)
    if form.is_valid():
        requests = feature_requests.filter_requests(
            requests,
            statuses=form.cleaned_data["status"],
            importance=form.cleaned_data["importance"],
            churn_risk_only=form.cleaned_data["churn_risk"],
        )
    rows = feature_requests.request_rows(requests, on)
    table = FeatureRequestTable(rows)
    export = configure(request, table, filename=f"feature-requests-{on}",
                       per_page=REQUESTS_PAGE_SIZE)
    if export is not None:
        return export
    context = {
        "on": on,
        "form": form,
        "table": table,
        "total_arr": format_money(
            sum({r.account_id: r.arr for r in rows}.values(), ZERO_CENTS)
        ),
        "accounts": len({r.account_id for r in rows}),
    }
    return render(request, "team/feature_request_list.html", context)

