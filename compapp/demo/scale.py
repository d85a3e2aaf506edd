"""A data set at a given scale for the benchmark, written with set-based SQL
(INSERT ... SELECT over generate_series), so that the large one takes minutes, not hours.
The two big tables (invoices and usage) are written without their secondary indexes, unique
keys and foreign keys, which are then rebuilt from their own definitions in one pass each.

Everything it writes is prefixed `S-` (accounts, invoices, deals) or ends in
`@scale.example` (people), and a second run at the same scale writes nothing. Random values
come from PostgreSQL's random() after setseed(), so a run is reproducible.
"""

from __future__ import annotations

import datetime
import time
from contextlib import contextmanager
from dataclasses import dataclass

from django.contrib.auth.models import Group, User
from django.db import connection, transaction

from accounts.quarters import add_months


@dataclass(frozen=True)
class Scale:
    name: str
    aes: int
    csms: int
    onboarding: int
    accounts: int
    months: int
    ae_book: int = 15
    csm_book: int = 45
    onboarding_book: int = 100

    @property
    def reps(self) -> int:
        return self.aes + self.csms + self.onboarding

    @property
    def booked_accounts(self) -> int:
        """Accounts in someone's book; the rest are self-serve."""
        return (self.aes * self.ae_book + self.csms * self.csm_book
                + self.onboarding * self.onboarding_book)

    @property
    def managers(self) -> int:
        """Teams of ten: sales managers for the AEs, CS managers for the others."""
        return -(-self.aes // 10) + -(-(self.csms + self.onboarding) // 10)

    @property
    def invoices(self) -> int:
        return self.accounts * self.months

    @property
    def usage_rows(self) -> int:
        return self.accounts * self.months


SCALES = {
    "small": Scale("small", aes=6, csms=6, onboarding=2, accounts=2_000, months=12),
    "medium": Scale("medium", aes=30, csms=30, onboarding=6, accounts=20_000, months=24),
    "large": Scale("large", aes=100, csms=80, onboarding=20, accounts=100_000, months=24),
    # Five times large in people and accounts, in the same proportions (half the reps AEs,
    # two fifths CSMs, a tenth onboarding; 500 accounts a rep): 12 million invoices and 12
    # million usage rows.
    "xlarge": Scale("xlarge", aes=500, csms=400, onboarding=100, accounts=500_000, months=24),
}

# The tables written without their indexes and keys, then rebuilt (see _bulk_tables).
BULK_TABLES = ("accounts_invoice", "accounts_usage")

PASSWORD = "scale-pass-2025"


def _exec(sql: str, params=None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or {})


def scale_exists(scale: Scale) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM accounts_account WHERE external_id LIKE 'S-%%'")
        return cursor.fetchone()[0] >= scale.accounts


def seed_scale(scale: Scale, *, today: datetime.date, progress=print) -> dict:
    """Write the data set; returns the row counts."""
    if scale_exists(scale):
        progress(f"scale data set '{scale.name}' already present: nothing written")
        return counts()
    params = _params(scale, today)
    with transaction.atomic():
        # Index builds in memory rather than in sorted runs on disk (this transaction only).
        _exec("SET LOCAL maintenance_work_mem = '1GB'")
        # One seed, then the steps in this order: random() draws follow the order.
        _exec("SELECT setseed(0.42)")
        with _bulk_tables(BULK_TABLES, progress):
            for label, write in STEPS:
                started = time.perf_counter()
                write(params)
                progress(f"{label}: {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    _exec("ANALYZE")
    progress(f"analyze: {time.perf_counter() - started:.1f} s")
    return counts()


@contextmanager
def _bulk_tables(tables, progress):
    """Drop the tables' indexes, unique keys and foreign keys (all but the primary key and
    the check constraints), let the block write, then recreate each from the definition
    PostgreSQL reports for it: one sort per index and one join per foreign key instead of
    a B-tree insertion per row and index and a queued foreign-key check per row. Inside the
    caller's transaction: if anything fails, the drops are rolled back with the rows."""
    indexes, keys, foreign = [], [], []
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(
                """
                SELECT c.conname, c.contype, pg_get_constraintdef(c.oid)
                  FROM pg_constraint c
                 WHERE c.conrelid = %s::regclass AND c.contype IN ('u', 'f')
                 ORDER BY c.conname
                """,
                [table],
            )
            for name, kind, definition in cursor.fetchall():
                (foreign if kind == "f" else keys).append((table, name, definition))
            cursor.execute(
                """
                SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
                  FROM pg_index i
                 WHERE i.indrelid = %s::regclass AND NOT i.indisprimary
                   AND NOT EXISTS (SELECT 1 FROM pg_constraint c
                                    WHERE c.conindid = i.indexrelid
                                      AND c.conrelid = i.indrelid)
                 ORDER BY 1
                """,
                [table],
            )
            indexes.extend(cursor.fetchall())
        for table, name, _definition in foreign + keys:
            cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        for name, _definition in indexes:
            cursor.execute(f"DROP INDEX {name}")
    yield
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for _name, definition in indexes:
            cursor.execute(definition)
        for table, name, definition in keys + foreign:
            cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
    progress(f"indexes and keys of {', '.join(tables)} rebuilt: "
             f"{time.perf_counter() - started:.1f} s")


def _params(scale: Scale, today: datetime.date) -> dict:
    last_month = add_months(today.replace(day=1), -1)
    first_month = add_months(last_month, -(scale.months - 1))
    return dict(
        aes=scale.aes, csms=scale.csms, onb=scale.onboarding, n=scale.accounts,
        months=scale.months, first=first_month, today=today, width=_id_width(scale),
        ae_book=scale.ae_book, csm_book=scale.csm_book, onb_book=scale.onboarding_book,
    )  # fmt: skip


def _id_width(scale: Scale) -> int:
    """Digits of an account number: six (S-000001) below a million accounts, more from there."""
    return max(6, len(str(scale.accounts)))


def _write_people(params: dict) -> None:
    """Managers, then AEs, CSMs and onboarding specialists in teams of ten. Reps start a
    week apart, in cycles of a hundred, so that at every scale all of them have started
    by the end of 2022."""
    _exec(
        """
        INSERT INTO accounts_person (email, name, employee_id, roles, team, start_date, ote,
                                     variable_share, region)
        SELECT 'manager' || g || '@scale.example', 'Scale Manager ' || g, 'SM' || g,
               ARRAY['manager'],
               CASE WHEN g <= ceil(%(aes)s / 10.0) THEN 'sales' ELSE 'cs' END,
               DATE '2020-01-01', 200000, NULL, 'Europe'
          FROM generate_series(1, ceil(%(aes)s / 10.0)::int
                                  + ceil((%(csms)s + %(onb)s) / 10.0)::int) g;
        -- Teams of ten: AEs under the sales managers, CSMs and onboarding under the CS ones.
        INSERT INTO accounts_person (email, name, employee_id, roles, team, start_date, ote,
                                     variable_share, region, manager_id)
        SELECT role || g || '@scale.example', 'Scale ' || initcap(role) || ' ' || g,
               'S' || upper(left(role, 2)) || g, ARRAY[role],
               CASE WHEN role = 'ae' THEN 'sales' ELSE 'cs' END,
               DATE '2021-01-01' + ((g - 1) %% 100 + 1) * 7, 120000 + g * 100, NULL,
               CASE WHEN g %% 2 = 0 THEN 'Europe' ELSE 'US' END,
               (SELECT id FROM accounts_person
                 WHERE email = 'manager' || (
                     CASE WHEN role = 'ae' THEN 1 + (g - 1) / 10
                          ELSE ceil(%(aes)s / 10.0)::int + 1 + (k - 1) / 10 END
                 ) || '@scale.example')
          FROM (SELECT 'ae' AS role, g, g AS k FROM generate_series(1, %(aes)s) g
                UNION ALL SELECT 'csm', g, g FROM generate_series(1, %(csms)s) g
                UNION ALL SELECT 'onboarding', g, %(csms)s + g
                            FROM generate_series(1, %(onb)s) g) r;
        """,
        params,
    )


def _write_accounts(params: dict) -> None:
    """The customer accounts S-000001 onwards; every third one is annual."""
    _exec(
        """
        INSERT INTO accounts_account (external_id, name, billing, segment, health_score,
                                      sentiment, active_users, products,
                                      annual_contract_value, contract_start, contract_end)
        SELECT 'S-' || lpad(g::text, %(width)s, '0'), 'Scale customer ' || g,
               CASE WHEN g %% 3 = 0 THEN 'annual' ELSE 'monthly' END,
               CASE WHEN g %% 10 = 0 THEN '20k+' WHEN g %% 10 < 4 THEN 'CSM managed'
                    ELSE 'self-serve' END,
               (g * 7) %% 11,
               (ARRAY['positive', 'neutral', 'negative'])[1 + g %% 3],
               (g * 13) %% 40,
               ARRAY['product analytics', 'session replay'],
               CASE WHEN g %% 3 = 0 THEN 12000 + (g %% 50) * 1000 END,
               CASE WHEN g %% 3 = 0 THEN %(first)s::date END,
               CASE WHEN g %% 3 = 0 THEN %(first)s::date + 365 * 3 END
          FROM generate_series(1, %(n)s) g;
        """,
        params,
    )


def _write_assignments(params: dict) -> None:
    """AEs own the first accounts, CSMs the next ones, onboarding the next ones: each
    person's book is a consecutive block of account numbers; the rest are self-serve."""
    _exec(
        """
        WITH people AS (
            SELECT id, roles[1] AS role,
                   row_number() OVER (PARTITION BY roles[1] ORDER BY id) - 1 AS k
              FROM accounts_person
             WHERE email LIKE '%%@scale.example' AND roles[1] <> 'manager'
        ), blocks AS (
            SELECT p.id AS owner_id, p.role,
                   CASE p.role
                       WHEN 'ae' THEN p.k * %(ae_book)s
                       WHEN 'csm' THEN %(aes)s * %(ae_book)s + p.k * %(csm_book)s
                       ELSE %(aes)s * %(ae_book)s + %(csms)s * %(csm_book)s
                            + p.k * %(onb_book)s
                   END AS first_n,
                   CASE p.role WHEN 'ae' THEN %(ae_book)s WHEN 'csm' THEN %(csm_book)s
                               ELSE %(onb_book)s END AS size
              FROM people p
        )
        INSERT INTO accounts_assignment (account_id, owner_id, role, start_date, end_date,
                                         inherited, reason, cap_override_reason, created_at)
        SELECT a.id, b.owner_id, b.role,
               CASE WHEN b.role = 'onboarding' THEN %(today)s::date - 90 + (i %% 60)
                    WHEN i %% 9 = 0 THEN %(today)s::date - 40
                    ELSE %(first)s::date END,
               CASE WHEN b.role = 'onboarding' AND i %% 2 = 0
                    THEN %(today)s::date - 30 + (i %% 25) END,
               b.role <> 'ae' AND i %% 9 = 0, 'scale data set', '', now()
          FROM blocks b
          CROSS JOIN LATERAL generate_series(0, b.size - 1) i
          JOIN accounts_account a
            ON a.external_id = 'S-' || lpad((b.first_n + i + 1)::text, %(width)s, '0');
        """,
        params,
    )


def _write_invoices(params: dict) -> None:
    """One usage invoice per account and month."""
    _exec(
        """
        INSERT INTO accounts_invoice (external_id, account_id, issued_on, period_start,
                                      period_end, amount, kind, status, paid_on,
                                      deal_external_id)
        SELECT 'S-INV-' || a.id || '-' || m,
               a.id,
               (%(first)s::date + make_interval(months => m + 1))::date,
               (%(first)s::date + make_interval(months => m))::date,
               (%(first)s::date + make_interval(months => m + 1))::date - 1,
               round((200 + (a.id %% 97) * 40 + m * (a.id %% 7) * 3
                      + random() * 50)::numeric, 2),
               'usage',
               CASE WHEN m = %(months)s - 1 AND a.id %% 4 = 0 THEN 'open' ELSE 'paid' END,
               CASE WHEN m = %(months)s - 1 AND a.id %% 4 = 0 THEN NULL
                    ELSE (%(first)s::date + make_interval(months => m + 1))::date
                         + (a.id %% 20)::int END,
               ''
          FROM accounts_account a
          CROSS JOIN generate_series(0, %(months)s - 1) m
         WHERE a.external_id LIKE 'S-%%';
        """,
        params,
    )


def _write_usage(params: dict) -> None:
    """One usage row per account and month (annual accounts' revenue, and the same for the
    rest)."""
    _exec(
        """
        INSERT INTO accounts_usage (account_id, month, amount)
        SELECT a.id, (%(first)s::date + make_interval(months => m))::date,
               round((300 + (a.id %% 89) * 45 + m * (a.id %% 5) * 4
                      + random() * 60)::numeric, 2)
          FROM accounts_account a
          CROSS JOIN generate_series(0, %(months)s - 1) m
         WHERE a.external_id LIKE 'S-%%';
        """,
        params,
    )


def _write_deals(params: dict) -> None:
    """A deal per AE assignment: won, open (proposal) or lost."""
    _exec(
        """
        INSERT INTO accounts_deal (external_id, account_id, owner_id, kind, arr, stage,
                                   probability, created_on, demo_on, closed_on,
                                   payment_schedule)
        SELECT 'S-D-' || asg.id, asg.account_id, asg.owner_id,
               (ARRAY['new_annual', 'expansion_annual', 'monthly_to_annual'])[1 + asg.id %% 3],
               10000 + (asg.id %% 20) * 1000,
               CASE WHEN asg.id %% 3 = 0 THEN 'won' WHEN asg.id %% 3 = 1 THEN 'proposal'
                    ELSE 'lost' END,
               0.5, %(today)s::date - 120, %(today)s::date - 100,
               CASE WHEN asg.id %% 3 <> 1 THEN %(today)s::date - (asg.id %% 60)::int END,
               'upfront'
          FROM accounts_assignment asg
          JOIN accounts_account a ON a.id = asg.account_id AND a.external_id LIKE 'S-%%'
         WHERE asg.role = 'ae';
        """,
        params,
    )


def _write_logins(params: dict) -> None:
    """A login per person (one hashed password for all), in the group of their role, and
    one finance login."""
    users = []
    emails = []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT email, roles FROM accounts_person WHERE email LIKE '%%@scale.example'"
        )
        emails = cursor.fetchall()
    hashed = User(username="x")
    hashed.set_password(PASSWORD)
    for email, _roles in emails:
        users.append(User(username=email, email=email, password=hashed.password))
    User.objects.bulk_create(users, ignore_conflicts=True)
    groups = {g.name: g for g in Group.objects.all()}
    through = User.groups.through
    by_email = dict(
        User.objects.filter(email__endswith="@scale.example").values_list("email", "id")
    )
    links = []
    for email, roles in emails:
        group = "manager" if "manager" in roles else "rep"
        links.append(through(user_id=by_email[email], group_id=groups[group].id))
    through.objects.bulk_create(links, ignore_conflicts=True)
    finance, _ = User.objects.get_or_create(
        username="finance@scale.example", defaults={"email": "finance@scale.example"}
    )
    finance.groups.add(groups["finance"])


STEPS = (
    ("people", _write_people),
    ("accounts", _write_accounts),
    ("assignments", _write_assignments),
    ("invoices (one per account and month)", _write_invoices),
    ("usage (one row per annual account and month, and the same for the rest)", _write_usage),
    ("deals", _write_deals),
    ("logins", _write_logins),
)


def database_bytes() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_database_size(current_database())")
        return cursor.fetchone()[0]


def counts() -> dict:
    result = {}
    with connection.cursor() as cursor:
        for table in ("person", "account", "assignment", "invoice", "usage", "deal"):
            cursor.execute(f"SELECT count(*) FROM accounts_{table}")
            result[table] = cursor.fetchone()[0]
    return result
