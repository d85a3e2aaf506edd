"""A bounded load test of the running product: reps, managers and finance reading their pages.

Run it with `loadtest/run.sh` (which refuses any host but this machine). Each simulated user
signs in with a demo login of its role (password demo-pass-2025), finds its own ids on its
first pages (its accounts, its team, the quarter's payouts) and then browses, waiting one to
three seconds between pages as a person does. At the end it prints requests per second,
median and 95th percentile latency and the error count: for everything, for the pages, for the
sign-ins apart (a sign-in hashes the password on purpose: it is slow by design) and for the
pages once every user has signed in (the steady state).

Environment:
  LOADTEST_LOGINS   "rep=a@x,b@x;manager=c@x;finance=d@x" (default: the demo company's)
  LOADTEST_PASSWORD the logins' password (default: the demo's)
  LOADTEST_WAIT     "1,3": seconds between a user's pages, min and max
  LOADTEST_P95_MS   the target p95 of the pages (default 300): exit status 1 above it or on
                    any error
"""

from __future__ import annotations

import atexit
import datetime
import itertools
import os
import random
import re
import sys
from pathlib import Path

from locust import HttpUser, between, events, task

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = os.environ.get("LOADTEST_PASSWORD", "demo-pass-2025")
WAIT_MIN, WAIT_MAX = (float(x) for x in os.environ.get("LOADTEST_WAIT", "1,3").split(","))
P95_TARGET_MS = float(os.environ.get("LOADTEST_P95_MS", "300"))
LOGIN_NAME = "sign in"


def _demo_logins() -> dict[str, list[str]]:
    """The demo company's logins by group, from the demo's own definition (no database)."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "compapp.settings")
    import django

    django.setup()
    from compapp.demo.people import EMAIL_DOMAIN, GROUP_OF_ROLE, PEOPLE

    logins: dict[str, list[str]] = {}
    for first, last, role, _team, _region, profile in PEOPLE:
        if profile != "leaver":
            email = f"{first}.{last}@{EMAIL_DOMAIN}".lower()
            logins.setdefault(GROUP_OF_ROLE[role], []).append(email)
    return logins


def _logins() -> dict[str, list[str]]:
    text = os.environ.get("LOADTEST_LOGINS", "").strip()
    if not text:
        return _demo_logins()
    logins = {}
    for part in text.split(";"):
        group, _, emails = part.partition("=")
        logins[group.strip()] = [e.strip() for e in emails.split(",") if e.strip()]
    return logins


LOGINS = _logins()
# Pages once every user has signed in (the sign-ins' password hashing, slow on purpose, keeps
# the processors busy while users arrive): measured apart, as well as over the whole run.
_signed_in = {"count": 0, "users": 0}
_steady_times: list[float] = []
_steady_failures = {"count": 0}
_next_login = {group: itertools.cycle(emails) for group, emails in LOGINS.items()}
TODAY = datetime.date.today()
QUARTER_NOW = f"{TODAY.year}Q{(TODAY.month - 1) // 3 + 1}"


def _previous_quarter(text: str) -> str:
    year, q = int(text[:4]), int(text[5])
    return f"{year - 1}Q4" if q == 1 else f"{year}Q{q - 1}"


PREVIOUS_QUARTER = _previous_quarter(QUARTER_NOW)


class Browsing(HttpUser):
    abstract = True
    group = ""
    wait_time = between(WAIT_MIN, WAIT_MAX)

    def on_start(self):
        self.email = next(_next_login[self.group])
        page = self.client.get("/login/", name=LOGIN_NAME)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        with self.client.post(
            "/login/",
            {"username": self.email, "password": PASSWORD,
             "csrfmiddlewaretoken": token.group(1) if token else ""},
            headers={"Referer": self.host + "/login/"}, name=LOGIN_NAME, catch_response=True,
        ) as response:
            if response.url.rstrip("/").endswith("/login") or response.status_code != 200:
                response.failure(f"{self.email} could not sign in")
        _signed_in["count"] += 1
        self.discover()

    def discover(self):
        """Read the ids this user's pages link to."""

    def page(self, url, name=None):
        """GET a page; a 2xx that is really the login page (session lost) is a failure."""
        with self.client.get(url, name=name or url, catch_response=True) as response:
            if response.status_code >= 400:
                response.failure(f"{response.status_code} on {url}")
            elif "/login/" in response.url:
                response.failure(f"sent to the login page from {url}")
            return response.text if response.ok else ""

    @staticmethod
    def ids(text, pattern):
        return sorted({int(m) for m in re.findall(pattern, text)})


class Rep(Browsing):
    """An AE, CSM or onboarding specialist: their book, attainment, accounts, statements."""

    group = "rep"
    weight = 6

    def discover(self):
        book = self.page("/", name="/ (my book)")
        self.accounts = self.ids(book, r'href="/accounts/(\d+)/"')
        attainment = self.page("/attainment/", name="/attainment/")
        self.me = (self.ids(attainment, r"/people/(\d+)/") or [None])[0]

    @task(3)
    def book(self):
        self.page("/", name="/ (my book)")

    @task(3)
    def attainment(self):
        self.page("/attainment/")

    @task(1)
    def previous_attainment(self):
        self.page(f"/attainment/?quarter={PREVIOUS_QUARTER}", name="/attainment/?quarter=[q]")

    @task(2)
    def account(self):
        if self.accounts:
            self.page(f"/accounts/{random.choice(self.accounts)}/", name="/accounts/[id]/")

    @task(1)
    def at_risk(self):
        if self.me:
            self.page(f"/people/{self.me}/at-risk/", name="/people/[id]/at-risk/")

    @task(1)
    def statements(self):
        self.page("/finance/statements/")


class Manager(Browsing):
    """A team lead: the team, each person's book and attainment, balance, hand-offs."""

    group = "manager"
    weight = 3

    def discover(self):
        team = self.page("/team/")
        self.people = self.ids(team, r'href="/people/(\d+)/')
        book = self.page(f"/people/{self.people[0]}/book/", name="/people/[id]/book/") \
            if self.people else ""
        self.accounts = self.ids(book, r'href="/accounts/(\d+)/"')

    @task(2)
    def team(self):
        self.page("/team/")

    @task(2)
    def person_book(self):
        if self.people:
            self.page(f"/people/{random.choice(self.people)}/book/", name="/people/[id]/book/")

    @task(2)
    def person_attainment(self):
        if self.people:
            self.page(f"/people/{random.choice(self.people)}/attainment/",
                      name="/people/[id]/attainment/")

    @task(1)
    def account_history(self):
        if self.accounts:
            self.page(f"/history/accounts/{random.choice(self.accounts)}/",
                      name="/history/accounts/[id]/")

    @task(1)
    def balance(self):
        self.page("/team/balance/")

    @task(1)
    def handoffs(self):
        self.page("/team/handoffs/")

    @task(1)
    def standup(self):
        self.page("/team/standup/cs/")


class Finance(Browsing):
    """Finance: the previous quarter's queue, payouts, their history, the payroll file."""

    group = "finance"
    weight = 1

    def discover(self):
        queue = self.page(f"/finance/{PREVIOUS_QUARTER}/", name="/finance/[q]/")
        self.payouts = self.ids(queue, r'href="/finance/payouts/(\d+)/"')

    @task(3)
    def queue(self):
        self.page(f"/finance/{PREVIOUS_QUARTER}/", name="/finance/[q]/")

    @task(2)
    def payout(self):
        if self.payouts:
            self.page(f"/finance/payouts/{random.choice(self.payouts)}/",
                      name="/finance/payouts/[id]/")

    @task(1)
    def payout_history(self):
        if self.payouts:
            self.page(f"/history/payouts/{random.choice(self.payouts)}/",
                      name="/history/payouts/[id]/")

    @task(1)
    def export(self):
        self.page(f"/finance/{PREVIOUS_QUARTER}/export.csv", name="/finance/[q]/export.csv")

    @task(1)
    def plans(self):
        self.page(f"/finance/plans/{QUARTER_NOW}/", name="/finance/plans/[q]/")

    @task(1)
    def team(self):
        self.page("/team/")


@events.test_start.add_listener
def _users(environment, **_kwargs):
    _signed_in["users"] = environment.parsed_options.num_users if environment.parsed_options \
        else 0


@events.request.add_listener
def _steady(name, response_time, exception, **_kwargs):
    if name == LOGIN_NAME or _signed_in["count"] < _signed_in["users"]:
        return
    _steady_times.append(response_time)
    if exception:
        _steady_failures["count"] += 1


def _steady_summary() -> str:
    if not _steady_times:
        return "pages once everyone is signed in: no requests"
    times = sorted(_steady_times)
    median = times[len(times) // 2]
    p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
    return (f"pages once everyone is signed in: {len(times)} requests, median {median:.0f} ms, "
            f"p95 {p95:.0f} ms, errors {_steady_failures['count']}")


def _summary(entries, label):
    requests = sum(e.num_requests for e in entries)
    failures = sum(e.num_failures for e in entries)
    if not requests:
        return f"{label}: no requests", 0.0, failures
    merged = entries[0].__class__(entries[0].stats, label, "")
    for entry in entries:
        merged.extend(entry)
    p95 = merged.get_response_time_percentile(0.95)
    text = (f"{label}: {requests} requests, {merged.total_rps:.1f} requests/s, median "
            f"{merged.median_response_time:.0f} ms, p95 {p95:.0f} ms, errors {failures}")
    return text, p95, failures


@events.quitting.add_listener
def report(environment, **_kwargs):
    stats = environment.stats
    entries = list(stats.entries.values())
    pages = [e for e in entries if e.name != LOGIN_NAME]
    logins = [e for e in entries if e.name == LOGIN_NAME]
    total = stats.total
    page_line, page_p95, _ = _summary(pages, "pages")
    lines = [
        "=" * 78,
        f"all: {total.num_requests} requests, {total.total_rps:.1f} requests/s, median "
        f"{total.median_response_time:.0f} ms, p95 "
        f"{total.get_response_time_percentile(0.95):.0f} ms, errors {total.num_failures}",
        page_line,
        _summary(logins, "sign-ins")[0],
        _steady_summary(),
    ]
    lines += [f"error: {e.method} {e.name}: {e.error} x{e.occurrences}"
              for e in stats.errors.values()]
    verdict = "ok" if total.num_failures == 0 and page_p95 <= P95_TARGET_MS else "NOT MET"
    lines += [f"target: no errors and pages' p95 under {P95_TARGET_MS:.0f} ms: {verdict}",
              "=" * 78]
    # Printed last, after locust's own tables.
    atexit.register(print, "\n".join(lines), flush=True)
    if verdict != "ok":
        environment.process_exit_code = 1
