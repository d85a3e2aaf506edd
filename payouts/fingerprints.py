"""Each person's input fingerprint, taken in the database in one query over the rows their
inputs are built from: a recompute gathers inputs only for people whose fingerprint has no
snapshot yet."""

from __future__ import annotations

import datetime
import hashlib

from django.db import connection

from accounts.models import Person
from accounts.quarters import Quarter, add_months
from payouts.models import (
    PlanKind,
    PlanVersion,
)
from payouts.rule_inputs import PAID_INVOICES_COUNTED, assignment_role_for, person_day
from payouts.selectors import terms_of

# Bump to recompute every figure once although no input changed (e.g. when a rule changes).
FINGERPRINT_VERSION = 1

# One person's input rows, fingerprinted in the database (`input_fingerprints`). Each part
# reads the rows `gather_inputs` reads with the same or a looser filter, and writes every
# column that filter or the inputs read, as record text (unambiguous: NULL is empty, text
# with separators is quoted), in a total order; so a change to any row that feeds a
# person's inputs changes their fingerprint. What comes from the person, their plan and
# its version is fingerprinted in Python (`_fingerprint_head`).
_FINGERPRINT_SQL = """
WITH p AS (
    SELECT * FROM unnest(%(people)s::bigint[], %(roles)s::text[], %(ae)s::boolean[])
        AS p(person_id, role, ae)
), held AS (
    SELECT p.person_id, p.ae, a.account_id, a.start_date, a.end_date, a.inherited
      FROM p JOIN accounts_assignment a ON a.owner_id = p.person_id AND a.role = p.role
     WHERE a.start_date <= %(last_day)s AND (a.end_date IS NULL OR a.end_date >= %(start)s)
), invoiced AS (
    SELECT i.account_id,
           string_agg(ROW(i.external_id, i.period_start, i.amount, i.status, i.paid_on,
                          i.issued_on)::text, ' ' ORDER BY i.external_id) AS rows
      FROM accounts_invoice i
     WHERE i.account_id IN (SELECT account_id FROM held) AND i.kind = 'usage'
       AND i.period_start >= %(first)s AND i.period_start < %(after)s
     GROUP BY 1
), used AS (
    SELECT u.account_id, string_agg(ROW(u.month, u.amount)::text, ' ' ORDER BY u.month) AS rows
      FROM accounts_usage u
     WHERE u.account_id IN (SELECT account_id FROM held)
       AND u.month >= %(first)s AND u.month < %(after)s
     GROUP BY 1
), ae_facts AS (
    -- What only the AE plan reads of an account: its first paid invoices (any kind, as
    -- `paid_invoice_counts` counts them) and its deals closed in the quarter (conversions).
    SELECT x.account_id, ROW(
        (SELECT count(*) FROM (
            SELECT 1 FROM accounts_invoice i
             WHERE i.account_id = x.account_id AND i.status = 'paid'
               AND i.paid_on <= %(as_of)s LIMIT %(paid_counted)s) first_paid),
        (SELECT string_agg(ROW(d.external_id, d.kind, d.stage, d.closed_on)::text, ' '
                           ORDER BY d.external_id)
           FROM accounts_deal d
          WHERE d.account_id = x.account_id
            AND d.closed_on >= %(start)s AND d.closed_on <= %(last_day)s)
    )::text AS facts
      FROM (SELECT DISTINCT account_id FROM held WHERE ae) x
), stints AS (
    SELECT h.person_id,
           string_agg(ROW(h.account_id, h.start_date, h.end_date, h.inherited, ac.external_id,
                          ac.name, ac.billing, ac.annual_contract_value, ac.contract_end,
                          invoiced.rows, used.rows, CASE WHEN h.ae THEN ae_facts.facts END
                      )::text, ' '
                      ORDER BY h.account_id, h.start_date, h.end_date, h.inherited) AS rows
      FROM held h
      JOIN accounts_account ac ON ac.id = h.account_id
      LEFT JOIN invoiced ON invoiced.account_id = h.account_id
      LEFT JOIN used ON used.account_id = h.account_id
      LEFT JOIN ae_facts ON ae_facts.account_id = h.account_id
     GROUP BY 1
), deals AS (
    -- An AE's deals closed in the quarter (any stage), with their contract invoices.
    SELECT d.owner_id AS person_id,
           string_agg(ROW(d.external_id, da.external_id, d.kind, d.arr, d.stage, d.closed_on,
                          CASE WHEN d.external_id <> '' THEN (  -- the partial index
                              SELECT string_agg(ROW(i.external_id, i.amount, i.status,
                                                    i.paid_on)::text, ' '
                                                ORDER BY i.external_id)
                                FROM accounts_invoice i
                               WHERE i.kind = 'contract' AND i.deal_external_id <> ''
                                 AND i.deal_external_id = d.external_id)
                          ELSE (
                              SELECT string_agg(ROW(i.external_id, i.amount, i.status,
                                                    i.paid_on)::text, ' '
                                                ORDER BY i.external_id)
                                FROM accounts_invoice i
                               WHERE i.kind = 'contract' AND i.deal_external_id = '')
                          END
                      )::text, ' ' ORDER BY d.external_id) AS rows
      FROM accounts_deal d
      JOIN accounts_account da ON da.id = d.account_id
     WHERE d.owner_id IN (SELECT person_id FROM p WHERE ae)
       AND d.closed_on >= %(start)s AND d.closed_on <= %(last_day)s
     GROUP BY 1
)
SELECT p.person_id, md5(ROW(stints.rows, deals.rows)::text)
  FROM p
  LEFT JOIN stints ON stints.person_id = p.person_id
  LEFT JOIN deals ON deals.person_id = p.person_id
"""


def _fingerprint_head(quarter: Quarter, as_of: datetime.date, paid_by: datetime.date,
                      person: Person, plan: str, person_plan, version: PlanVersion) -> str:
    """What a person's inputs take from the person, their plan and its version, and the
    days that decide which rows count: everything but the rows fingerprinted in SQL."""
    return repr((
        FINGERPRINT_VERSION, str(quarter), as_of, paid_by, quarter.is_final(as_of),
        person.id, person.email, tuple(person.roles), person.start_date, person.end_date,
        person.ote, person.effective_variable_share, person_day(quarter, person, as_of),
        plan, assignment_role_for(plan, person),
        person_plan.quota if person_plan else None, person_plan.target if person_plan else None,
        version.id, terms_of(version),
    ))


def input_fingerprints(quarter: Quarter, as_of: datetime.date, planned) -> dict[int, str]:
    """{person id: fingerprint of everything their figure depends on} for the `plans_for`
    rows given, in one query: equal fingerprints mean equal `gather_inputs` (so equal
    figures), and a person's fingerprint is the same whoever else is fingerprinted."""
    if not planned:
        return {}
    paid_by = quarter.cutoff if quarter.is_final(as_of) else as_of
    roles = {p.id: assignment_role_for(plan, p)[0] for p, plan, _pp, _v in planned}
    params = {
        "people": [p.id for p, *_ in planned],
        "roles": [roles[p.id] for p, *_ in planned],
        "ae": [plan == PlanKind.AE_COMMISSION for _p, plan, _pp, _v in planned],
        "start": quarter.start, "last_day": min(quarter.end, as_of), "as_of": as_of,
        "first": add_months(quarter.start, -3),
        "after": add_months(quarter.months[-1], 1),
        "paid_counted": PAID_INVOICES_COUNTED,
    }
    with connection.cursor() as cursor:
        cursor.execute(_FINGERPRINT_SQL, params)
        rows = dict(cursor.fetchall())
    return {
        person.id: hashlib.sha256(
            f"{_fingerprint_head(quarter, as_of, paid_by, person, plan, pp, version)}\n"
            f"{rows[person.id]}".encode()
        ).hexdigest()
        for person, plan, pp, version in planned
    }
