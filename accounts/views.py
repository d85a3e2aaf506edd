"""Pages about books and accounts. Each view checks access first (404 for objects that
are not the user's to see, 403 for pages of a role they do not hold), then calls
selectors and services."""

import datetime

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from accounts import revenue, risk, selectors
from accounts.charts import arr_by_month
from accounts.display.tables import configure
from accounts.forms import ReassignForm, form_errors
from accounts.money import format_money
from accounts.permissions import (
    require_role,
    roles_of,
    visible_people,
)
from accounts.revenue import run_rate_arr
from accounts.services import ReassignError, account_reassign, assignment_create
from accounts.tables import InvoiceTable


def as_of(request) -> datetime.date:
    """The day a page looks at: `?on=YYYY-MM-DD`, else today (UTC)."""
    try:
        return datetime.date.fromisoformat(request.GET.get("on", ""))
    except ValueError:
        return timezone.localdate()


def account_detail(request, account_id):
    account = selectors.get_account_for_user(request.user, account_id)
    on = as_of(request)
    owners = list(selectors.account_owners(account))
    current = _current(owners, on)
    since = max((a.start_date for a in current), default=None)
    # A link from an invoice id or a deal elsewhere (?invoice=, ?deal=) opens the page on
    # that invoice, or on the deal's invoices; "show all" drops the filter.
    focus = {key: request.GET[key].strip() for key in ("invoice", "deal")
             if request.GET.get(key, "").strip()}
    shown_invoices = account.invoices.all()
    if "invoice" in focus:
        shown_invoices = shown_invoices.filter(external_id=focus["invoice"])
    if "deal" in focus:
        shown_invoices = shown_invoices.filter(deal_external_id=focus["deal"])
    invoices = InvoiceTable(shown_invoices, prefix="inv-")
    deal = (account.deals.select_related("owner").filter(external_id=focus["deal"]).first()
            if "deal" in focus else None)
    export = configure(request, invoices, filename=f"invoices-{account.external_id}",
                       per_page=25)
    if export is not None:
        return export
    form = None
    if "manager" in roles_of(request.user):
        team_ids = set(visible_people(request.user).values_list("id", flat=True))
        if not current or any(a.owner_id in team_ids for a in current):
            form = ReassignForm(
                team=selectors.reassign_team(request.user),
                initial={"role": current[0].role if current else "", "effective_date": on},
            )
    months = revenue.revenue_by_month(account, on)
    context = {
        "account": account,
        "on": on,
        "owners": owners,
        "current": current,
        "arr": format_money(run_rate_arr([account.id], on)[account.id]),
        "contract_value": format_money(account.annual_contract_value),
        "risk_reasons": risk.at_risk_reasons(account, on, since=since),
        "invoices": invoices,
        "focus": focus,
        "deal": deal,
        "deal_arr": format_money(deal.arr) if deal else "",
        "months": months,
        "arr_chart": arr_by_month(months),
        "health_band": risk.health_band(account.health_score),
        "form": form,
    }
    return render(request, "accounts/account_detail.html", context)


@require_POST
def reassign(request, account_id):
    """Assign or reassign an account in a role (managers, for their team). A plain POST
    redirects with a message; an htmx POST (HX-Request) answers the fragment it swaps in:
    from the account page, the result and the owners table; from a book's row, the row's
    result."""
    require_role(request.user, "manager")
    account = selectors.get_account_for_user(request.user, account_id)
    form = ReassignForm(request.POST, team=selectors.reassign_team(request.user))
    ok, text = _reassign(request, account, form)
    from_row = request.POST.get("from") == "row"
    if request.headers.get("HX-Request"):
        context = {"ok": ok, "text": text, "account": account}
        if from_row:
            return render(request, "accounts/_row_reassign_result.html", context)
        on = as_of(request)
        owners = list(selectors.account_owners(account))
        context.update(owners=owners, current=_current(owners, on))
        return render(request, "accounts/_reassign_result.html", context)
    (messages.success if ok else messages.error)(request, text)
    target = request.POST.get("next", "")
    if from_row and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect("account_detail", account_id=account.id)


def _reassign(request, account, form) -> tuple[bool, str]:
    """Make the move the form asks for; (done, what to tell the manager)."""
    if not form.is_valid():
        return False, f"Not reassigned. {form_errors(form)}"
    data = form.cleaned_data
    try:
        if selectors.has_owner(account, data["role"], data["effective_date"]):
            assignment = account_reassign(
                account=account,
                role=data["role"],
                new_owner=data["new_owner"],
                effective_date=data["effective_date"],
                reason=data["reason"],
                cap_override_reason=data["cap_override_reason"],
                by_user=request.user,
            )
        else:
            assignment = assignment_create(
                account=account,
                role=data["role"],
                owner=data["new_owner"],
                start_date=data["effective_date"],
                reason=data["reason"],
                cap_override_reason=data["cap_override_reason"],
                by_user=request.user,
            )
    except ReassignError as error:
        return False, f"Not reassigned. {error}"
    return True, (
        f"{account.name} is {assignment.owner.name}'s ({assignment.get_role_display()}) "
        f"from {assignment.start_date:%Y-%m-%d}."
    )


def _current(owners, on):
    return [a for a in owners if a.start_date <= on and (a.end_date or on) >= on]


def account_search(request):
    """Find an account by name or external id among those this user may open."""
    text = request.GET.get("q", "").strip()[:100]
    found = selectors.search_accounts(request.user, text) if text else []
    if len(found) == 1 and found[0].external_id.lower() == text.lower():
        return redirect("account_detail", account_id=found[0].id)
    return render(request, "accounts/search.html", {
        "q": text, "found": found, "limit": selectors.SEARCH_LIMIT,
    })
