"""Customers' feature requests (SPEC 5 and 8): reads and writes.

The CSM or AE who owns an account (or their manager) logs what the customer asked for and
how much they care. A request marked as a churn risk, while open or planned, makes the
account at risk (`accounts.risk.at_risk_reasons`). Managers see the requests across
accounts with the ARR of the accounts asking.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404

from accounts.changes import record_change
from accounts.models import Account, Assignment, FeatureRequest, Person, Role
from accounts.money import ZERO_CENTS
from accounts.permissions import person_for_user, roles_of, visible_people
from accounts.revenue import run_rate_arr
from accounts.selectors import in_force, visible_accounts
from accounts.services import ReassignError

LOGGING_ROLES = (Role.AE, Role.CSM)


class FeatureRequestError(ReassignError):
    """A refused feature request; `str()` is the message to show."""


def _owners(account: Account, on: datetime.date) -> list[Assignment]:
    return list(
        Assignment.objects.filter(
            in_force(on), account=account, role__in=[r.value for r in LOGGING_ROLES]
        ).select_related("owner")
    )


def can_log(user, account: Account, on: datetime.date) -> bool:
    """The account's current AE or CSM, or a manager of one of them."""
    owners = _owners(account, on)
    me = person_for_user(user)
    if me is not None and any(a.owner_id == me.id for a in owners):
        return True
    if "manager" not in roles_of(user):
        return False
    team = set(visible_people(user).values_list("id", flat=True))
    return any(a.owner_id in team for a in owners)


def _check_logger(user, account: Account, on: datetime.date) -> None:
    if not can_log(user, account, on):
        raise FeatureRequestError(
            f"Only {account.name}'s AE or CSM, or their manager, can log its feature requests.",
            "not_owner",
        )


def _json(fr: FeatureRequest) -> dict:
    return {
        "account": fr.account.external_id,
        "request": fr.request,
        "importance": fr.importance,
        "status": fr.status,
        "churn_risk": fr.churn_risk,
    }


def feature_request_log(
    *,
    account: Account,
    request: str,
    importance: str,
    status: str = FeatureRequest.Status.OPEN,
    churn_risk: bool = False,
    by_user,
    on: datetime.date,
) -> FeatureRequest:
    """Log what a customer asked for. Raises FeatureRequestError, with nothing written,
    when the user may not log for this account."""
    _check_logger(by_user, account, on)
    if not request.strip():
        raise FeatureRequestError("Say what the customer asked for.", "request")
    with transaction.atomic():
        fr = FeatureRequest.objects.create(
            account=account,
            request=request.strip(),
            importance=importance,
            status=status,
            churn_risk=churn_risk,
            logged_by=by_user,
        )
        record_change(
            model="FeatureRequest",
            key=f"{account.external_id}/{fr.id}",
            before={},
            after=_json(fr),
            source="feature_request_log",
            changed_by=by_user,
        )
    return fr


def feature_request_update(
    *, feature_request: FeatureRequest, status: str, churn_risk: bool, by_user, on: datetime.date
) -> FeatureRequest:
    """Change a request's status or churn-risk mark (shipped or declined requests no longer
    make the account at risk)."""
    _check_logger(by_user, feature_request.account, on)
    with transaction.atomic():
        fr = FeatureRequest.objects.select_for_update().select_related("account").get(
            pk=feature_request.pk
        )
        before = _json(fr)
        fr.status = status
        fr.churn_risk = churn_risk
        fr.save(update_fields=["status", "churn_risk"])
        record_change(
            model="FeatureRequest",
            key=f"{fr.account.external_id}/{fr.id}",
            before=before,
            after=_json(fr),
            source="feature_request_update",
            changed_by=by_user,
        )
    return fr


def get_feature_request_for_user(user, request_id: int) -> FeatureRequest:
    """The request, if this user may see its account; else 404."""
    fr = (
        FeatureRequest.objects.filter(id=request_id, account__in=visible_accounts(user))
        .select_related("account")
        .first()
    )
    if fr is None:
        raise Http404("No such feature request")
    return fr


@dataclass
class RequestRow:
    """One request with the ARR of the account asking (a plain row, so every column sorts)."""

    id: int
    account_id: int
    account_name: str
    request: str
    importance: str
    importance_label: str
    importance_rank: int
    status: str
    status_label: str
    churn_risk: bool
    logged_by: str
    logged_at: datetime.datetime
    arr: Decimal
    owners: str


IMPORTANCE_RANK = {
    FeatureRequest.Importance.LOW: 1,
    FeatureRequest.Importance.MEDIUM: 2,
    FeatureRequest.Importance.HIGH: 3,
}


def request_rows(requests: QuerySet[FeatureRequest], on: datetime.date) -> list[RequestRow]:
    """Requests with their account's ARR (one `run_rate_arr` call) and current AE and CSM,
    in a fixed number of queries."""
    requests = list(requests.select_related("account", "logged_by"))
    account_ids = {fr.account_id for fr in requests}
    arr = run_rate_arr(account_ids, on)
    owners: dict[int, list[str]] = {}
    for account_id, role, name in (
        Assignment.objects.filter(in_force(on), account_id__in=account_ids)
        .order_by("role")
        .values_list("account_id", "role", "owner__name")
    ):
        owners.setdefault(account_id, []).append(f"{name} ({role.upper()})")
    return [
        RequestRow(
            id=fr.id,
            account_id=fr.account_id,
            account_name=fr.account.name,
            request=fr.request,
            importance=fr.importance,
            importance_label=fr.get_importance_display(),
            importance_rank=IMPORTANCE_RANK.get(fr.importance, 0),
            status=fr.status,
            status_label=fr.get_status_display(),
            churn_risk=fr.churn_risk,
            logged_by=(fr.logged_by.get_full_name() or fr.logged_by.username)
            if fr.logged_by
            else "",
            logged_at=fr.logged_at,
            arr=arr.get(fr.account_id, ZERO_CENTS),
            owners=", ".join(owners.get(fr.account_id, [])),
        )
        for fr in requests
    ]


def visible_requests(user) -> QuerySet[FeatureRequest]:
    """Requests of the accounts this user may open."""
    return FeatureRequest.objects.filter(account__in=visible_accounts(user))


def filter_requests(
    requests: QuerySet[FeatureRequest],
    *,
    statuses: Sequence[str] = (),
    importance: str = "",
    churn_risk_only: bool = False,
) -> QuerySet[FeatureRequest]:
    if statuses:
        requests = requests.filter(status__in=list(statuses))
    if importance:
        requests = requests.filter(importance=importance)
    if churn_risk_only:
        requests = requests.filter(churn_risk=True)
    return requests


def people_who_may_log(account: Account, on: datetime.date) -> list[Person]:
    """The account's current AE and CSM (for the page to say who logs)."""
    return [a.owner for a in _owners(account, on)]
