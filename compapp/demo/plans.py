"""Plans and quotas: each person's plan for the previous and the current quarter."""

from __future__ import annotations

from decimal import Decimal

from compapp.demo.draft import CompanyDraft

LOGO_PLAN_CSM = "henrik"


def build_plans(draft: CompanyDraft):
    rng = draft.rng
    for quarter in (draft.prev, draft.quarter):
        for person in draft.people.values():
            if person["start_date"] > quarter.end or (
                person["end_date"] is not None and person["end_date"] < quarter.start
            ):
                continue
            if person["role"] == "ae" and person["profile"] == "tenured":
                quota = Decimal(rng.randrange(150000, 250001, 5000))
                draft.plans.append(
                    dict(
                        person=person["key"],
                        quarter=str(quarter),
                        plan="ae_commission",
                        target=None,
                        quota=quota,
                    )
                )
            elif person["role"] == "csm" and person["key"] == LOGO_PLAN_CSM:
                draft.plans.append(
                    dict(
                        person=person["key"],
                        quarter=str(quarter),
                        plan="logo_retention",
                        target=None,
                        quota=None,
                    )
                )
            elif person["role"] == "csm":
                draft.plans.append(
                    dict(
                        person=person["key"],
                        quarter=str(quarter),
                        plan="csm_revenue_retention",
                        target=Decimal("1.20"),
                        quota=None,
                    )
                )
