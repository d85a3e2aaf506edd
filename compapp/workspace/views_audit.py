"""The audit trail's pages: the history of an account's owners and of a payout.

Access first, as everywhere: an account's history is for finance and for the managers of
its owners (a rep or RevOps gets 403, a manager of another team 404); a payout's history is
for whoever may read its statement (finance, the person and their managers; anyone else 404).
"""

from django.http import Http404
from django.shortcuts import render

from accounts.permissions import require_role
from accounts.selectors import get_account_for_user
from compapp.workspace import audit
from payouts.finance import get_statement_person
from payouts.models import Payout


def account_history(request, account_id):
    require_role(request.user, "manager", "finance")
    account = get_account_for_user(request.user, account_id)
    return render(request, "audit/account_history.html", {
        "account": account,
        "rows": audit.account_history(account),
    })


def payout_history(request, payout_id):
    payout = Payout.objects.select_related("person").filter(id=payout_id).first()
    if payout is None:
        raise Http404("No such payout")
    get_statement_person(request.user, payout.person_id)  # 404 for anyone else
    return render(request, "audit/payout_history.html", {
        "payout": payout,
        "rows": audit.payout_history(payout),
    })
