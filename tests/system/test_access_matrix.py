"""Who may open what: every URL pattern of the project, for every kind of user.

The patterns are read from the URL configuration, so a new page is walked automatically,
and the test fails until the page has a row in MATRIX below: nobody can add a page and
forget to decide who may see it.

The world: Maria manages Alice and Bob (CSMs) and Dan (an AE, no login); Omar manages
Charlie (an AE); Fiona is finance; Rita is RevOps (no person of her own). Every object id
in the URLs belongs to Alice (her account, her book, her payout of 2025Q2 with an
adjustment, an inquiry and a difference, her feature request, the recompute run that
computed her figures) except the hand-off, which Dan proposes to Alice. So `alice` is the
owner, `bob` another rep, `omar` the manager of another team and `maria` the owner's
manager. Alice's account had two AEs before (FORMER_OWNERS): `ezra` until two years ago and
`hana` until yesterday; as reps they no longer open it, its pages or its exports.

Each account, each payout's adjustment and Charlie's open deal carry a canary (a name or an
amount found nowhere else): no page answered to a user may show the canary of a person they
may not see. Every "Export CSV" link found on a page is fetched by every role too (it must
answer as its page does, and leak nothing), and every refused action is also tried the htmx
way (HX-Request), which must be refused just the same.
"""

import datetime
import html
import io
import re
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from pghistory.models import Events

from accounts.models import (
    Deal,
    FeatureRequest,
    Handoff,
    ImportRun,
    RowChange,
    StandupPick,
)
from accounts.quarters import Quarter
from payouts.finance import inquiry_raise
from payouts.models import (
    Payout,
    PayoutEvent,
    PlanAcceptance,
    ProposedAdjustment,
    RecomputeRun,
)
from payouts.services import payout_adjust, quarter_close
from tests.conftest import assign, invoice, make_account, make_person, make_user

D = datetime.date

# What a cell means:
#   200 403 404 405   that status
#   login             302 to /login/?next=... (anonymous)
#   admin             302 to /admin/login/?next=... (the admin is for staff only)
#   redirect          any other 302
#   wrote             302, and the action was carried out (something was written)
#   refused           302 with a message, and nothing was written
# A row whose method is POST is sent as a POST with the form data in POST_DATA (inside a
# savepoint that is rolled back, so rows do not depend on each other). A URL with POST rows
# and no GET row answers a GET with 405 (and anonymous users with the login redirect).
MATRIX = """
url name                      method  anon     alice    bob      omar     maria    fiona    rita
login                         GET     200      200      200      200      200      200      200
logout                        GET     login    405      405      405      405      405      405
logout                        POST    login    redirect redirect redirect redirect redirect redirect
health                        GET     200      200      200      200      200      200      200
home                          GET     login    200      200      redirect redirect redirect redirect
team                          GET     login    403      403      200      200      200      200
person_book                   GET     login    200      404      404      200      200      200
account_detail                GET     login    200      404      404      200      200      200
account_search                GET     login    200      200      200      200      200      200
account_reassign              POST    login    403      403      404      wrote    403      403
import_upload                 GET     login    403      403      200      200      200      403
import_upload                 POST    login    403      403      200      200      200      403
my_attainment                 GET     login    200      200      200      200      200      200
person_attainment             GET     login    200      404      404      200      200      200
person_at_risk                GET     login    200      404      404      200      200      200
person_what_if                GET     login    200      404      404      200      200      200
recompute                     GET     login    403      403      200      200      200      200
recompute                     POST    login    403      403      wrote    wrote    wrote    wrote
recompute_run                 GET     login    403      403      200      200      200      200
recompute_run_resume          POST    login    403      403      refused  refused  refused  refused
recompute_progress            GET     login    403      403      200      200      200      200
finance_home                  GET     login    403      403      403      403      redirect 403
finance_my_statements         GET     login    200      200      200      200      200      200
finance_statement             GET     login    200      404      404      200      200      404
finance_inquiry_raise         POST    login    wrote    404      404      refused  refused  404
finance_plans                 GET     login    403      403      403      403      200      403
finance_plan_accept           POST    login    wrote    wrote    refused  refused  refused  404
finance_payout                GET     login    403      403      403      403      200      403
finance_payout_approve        POST    login    403      403      403      403      wrote    403
finance_payout_reject         POST    login    403      403      403      403      wrote    403
finance_payout_paid           POST    login    403      403      403      403      refused  403
finance_payout_resubmit       POST    login    403      403      403      403      refused  403
finance_payout_adjust         POST    login    403      403      403      403      wrote    403
finance_inquiry_resolve       POST    login    403      403      403      403      wrote    403
finance_difference_apply      POST    login    403      403      403      403      wrote    403
finance_difference_dismiss    POST    login    403      403      403      403      wrote    403
finance_queue                 GET     login    403      403      403      403      200      403
finance_quarter_close         GET     login    403      403      403      403      200      403
finance_quarter_close         POST    login    403      403      403      403      redirect 403
finance_bulk_approve          GET     login    403      403      403      403      200      403
finance_bulk_approve          POST    login    403      403      403      403      200      403
finance_differences_detect    POST    login    403      403      403      403      redirect 403
finance_statements_email      POST    login    403      403      403      403      redirect 403
finance_export                GET     login    403      403      403      403      200      403
handoff_list                  GET     login    403      403      200      200      403      403
handoff_new                   GET     login    403      404      404      403      403      403
handoff_detail                GET     login    200      404      404      200      200      200
handoff_detail                POST    login    refused  404      404      wrote    refused  refused
standup_sales                 GET     login    403      403      200      200      200      200
standup_sales                 POST    login    403      403      wrote    refused  403      403
standup_cs                    GET     login    403      403      200      200      200      200
balance                       GET     login    403      403      200      200      403      403
feature_request_list          GET     login    403      403      200      200      403      200
feature_request_update        POST    login    wrote    404      404      wrote    refused  refused
feature_request_new           GET     login    200      404      404      200      403      403
feature_request_new           POST    login    wrote    404      404      wrote    403      403
metrics                       GET     login    200      200      200      200      200      200
account_history               GET     login    403      403      404      200      200      403
payout_history                GET     login    200      404      404      200      200      404
admin:login                   GET     200      200      200      200      200      200      200
admin:logout                  GET     redirect redirect redirect redirect redirect redirect redirect
admin:*                       GET     admin    admin    admin    admin    admin    admin    admin
"""

# The former owners of Alice's account, both AEs on Maria's team: Ezra's assignment ended two
# years ago, Hana handed the account over yesterday. A rep opens an account only while it is
# in their book: to them it is an outsider's (bob's column), and what they held is explained
# only on their own attainment, statements and payouts.
FORMER_OWNERS = """
url name                      method  ezra     hana
login                         GET     200      200
logout                        GET     405      405
logout                        POST    redirect redirect
health                        GET     200      200
home                          GET     200      200
team                          GET     403      403
person_book                   GET     404      404
account_detail                GET     404      404
account_search                GET     200      200
account_reassign              POST    403      403
import_upload                 GET     403      403
import_upload                 POST    403      403
my_attainment                 GET     200      200
person_attainment             GET     404      404
person_at_risk                GET     404      404
person_what_if                GET     404      404
recompute                     GET     403      403
recompute                     POST    403      403
recompute_run                 GET     403      403
recompute_run_resume          POST    403      403
recompute_progress            GET     403      403
finance_home                  GET     403      403
finance_my_statements         GET     200      200
finance_statement             GET     404      404
finance_inquiry_raise         POST    404      404
finance_plans                 GET     403      403
finance_plan_accept           POST    wrote    wrote
finance_payout                GET     403      403
finance_payout_approve        POST    403      403
finance_payout_reject         POST    403      403
finance_payout_paid           POST    403      403
finance_payout_resubmit       POST    403      403
finance_payout_adjust         POST    403      403
finance_inquiry_resolve       POST    403      403
finance_difference_apply      POST    403      403
finance_difference_dismiss    POST    403      403
finance_queue                 GET     403      403
finance_quarter_close         GET     403      403
finance_quarter_close         POST    403      403
finance_bulk_approve          GET     403      403
finance_bulk_approve          POST    403      403
finance_differences_detect    POST    403      403
finance_statements_email      POST    403      403
finance_export                GET     403      403
handoff_list                  GET     403      403
handoff_new                   GET     404      404
handoff_detail                GET     404      404
handoff_detail                POST    404      404
standup_sales                 GET     403      403
standup_sales                 POST    403      403
standup_cs                    GET     403      403
balance                       GET     403      403
feature_request_list          GET     403      403
feature_request_update        POST    404      404
feature_request_new           GET     404      404
feature_request_new           POST    404      404
metrics                       GET     200      200
account_history               GET     403      403
payout_history                GET     404      404
admin:login                   GET     200      200
admin:logout                  GET     redirect redirect
admin:*                       GET     admin    admin
"""

MATRIX_ROLES = ("anon", "alice", "bob", "omar", "maria", "fiona", "rita")
FORMER_ROLES = ("ezra", "hana")
ROLES = MATRIX_ROLES + FORMER_ROLES


def parse_matrix(text, roles):
    rows = {}
    for line in text.strip().splitlines()[1:]:
        name, method, *cells = line.split()
        assert len(cells) == len(roles), line
        assert (name, method) not in rows, f"{name} {method} appears twice"
        rows[(name, method)] = dict(zip(roles, (int(c) if c.isdigit() else c for c in cells),
                                        strict=True))
    return rows


def merged(*tables):
    """One row per URL and method with every role's cell: each table has the same rows."""
    first, *others = tables
    for other in others:
        assert other.keys() == first.keys(), "every table decides the same URLs"
    return {key: {k: v for table in tables for k, v in table[key].items()} for key in first}


EXPECTED = merged(parse_matrix(MATRIX, MATRIX_ROLES), parse_matrix(FORMER_OWNERS, FORMER_ROLES))


# --- the URL configuration, walked ---------------------------------------------------------


def walk(patterns, prefix="", namespace=None):
    """(key, route) of every pattern: key is the namespaced name, or the route if unnamed."""
    for p in patterns:
        if isinstance(p, URLResolver):
            inner = p.namespace
            ns = f"{namespace}:{inner}" if namespace and inner else inner or namespace
            yield from walk(p.url_patterns, prefix + str(p.pattern), ns)
        elif isinstance(p, URLPattern):
            route = prefix + str(p.pattern)
            if p.name:
                yield (f"{namespace}:{p.name}" if namespace else p.name), route
            else:
                yield route, route


def table_name(key, route):
    """The MATRIX row of a pattern: its own, else the admin's catch-all row, else None."""
    names = {name for name, _ in EXPECTED}
    if key in names:
        return key
    if route.startswith("admin/") and "admin:*" in names:
        return "admin:*"
    return None


_CONVERTER = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")
_GROUP = re.compile(r"\(\?P<(?P<name>\w+)>[^)]*\)")


def build_url(route, params):
    missing = []

    def value(match):
        name = match.group("name")
        if name not in params:
            missing.append(name)
            return ""
        return str(params[name])

    path = _CONVERTER.sub(value, route)
    path = _GROUP.sub(value, path).replace("^", "").replace("$", "")
    assert not missing, f"{route}: give the test a value for {missing} in the world's params"
    return "/" + path


# --- the world ------------------------------------------------------------------------------

CANARIES = {
    "alice": ("Alice Canary Co", "4,321.09", "4321.09"),
    "alice's account now": ("CAN-A-TODAY", "2,468.13", "2468.13"),  # an invoice issued today
    "bob": ("Bob Canary Co", "8,765.43", "8765.43"),
    "charlie": ("Charlie Canary Co",),
    "charlie's pipeline": ("6,789.50", "6789.50"),  # an open deal: $13,579 at 50%
    "dan": ("Dan Canary Co",),
}
# Whose canaries each user must never be shown.
FORBIDDEN = {
    "alice": ("bob", "charlie", "charlie's pipeline"),
    "bob": ("alice", "alice's account now", "charlie", "charlie's pipeline", "dan"),
    "omar": ("alice", "alice's account now", "bob", "dan"),
    "maria": ("charlie", "charlie's pipeline"),
    "fiona": (),
    "rita": (),
    "anon": ("alice", "alice's account now", "bob", "charlie", "charlie's pipeline", "dan"),
    # The former owners: nothing of the account as it is now, nor of Alice's pay.
    "ezra": ("alice", "alice's account now", "bob", "charlie", "charlie's pipeline", "dan"),
    "hana": ("alice", "alice's account now", "bob", "charlie", "charlie's pipeline", "dan"),
}
# Shown to everyone on purpose. The metrics page is "for everyone" (SPEC 8 as built): its
# weighted pipeline by owner names every AE with their open deals' ARR x probability.
# Remove the exemption if only RevOps, finance and each owner's managers should see it.
EXPOSED_BY_DESIGN = {"metrics": {"charlie's pipeline"}}


@pytest.fixture
def world(people, users):
    alice, bob, charlie = people["alice"], people["bob"], people["charlie"]
    dan = make_person("dan@example.com", roles=["ae"], team="sales", manager=people["maria"],
                      region="US")
    accounts = {
        "alice": make_account("CAN-A", name="Alice Canary Co"),
        "bob": make_account("CAN-B", name="Bob Canary Co"),
        "charlie": make_account("CAN-C", name="Charlie Canary Co", billing="annual"),
        "dan": make_account("CAN-D", name="Dan Canary Co"),
    }
    assign(accounts["alice"], alice, start=D(2024, 1, 1))
    assign(accounts["bob"], bob, start=D(2024, 1, 1))
    assign(accounts["charlie"], charlie, role="ae", start=D(2024, 1, 1))
    assign(accounts["dan"], dan, role="ae", start=D(2024, 1, 1))
    for n, (who, account) in enumerate(accounts.items()):
        for month in range(1, 7):
            invoice(account, f"CAN-{who}-{month}", D(2025, month, 1), f"{1000 + 7 * n}.00")
    today = timezone.localdate()
    invoice(accounts["alice"], "CAN-A-TODAY", today.replace(day=1), "2468.13", status="open",
            issued_on=today)
    # Alice's account had AEs before: Ezra until two years ago, then Hana until yesterday.
    ezra = make_person("ezra@example.com", roles=["ae"], team="sales", manager=people["maria"],
                       start=D(2022, 1, 1))
    hana = make_person("hana@example.com", roles=["ae"], team="sales", manager=people["maria"],
                       start=D(2022, 1, 1))
    ezra_until = today - datetime.timedelta(days=730)
    assign(accounts["alice"], ezra, role="ae", start=D(2022, 1, 1), end=ezra_until)
    assign(accounts["alice"], hana, role="ae", start=ezra_until + datetime.timedelta(days=1),
           end=today - datetime.timedelta(days=1))
    users["ezra"] = make_user("ezra@example.com", "rep")
    users["hana"] = make_user("hana@example.com", "rep")

    call_command("recompute", "--quarter", "2025Q2", "--as-of", "2025-07-14",
                 stdout=io.StringIO())
    quarter_close(quarter=Quarter.parse("2025Q2"), today=D(2025, 7, 20))
    payout = Payout.objects.get(person=alice, quarter="2025Q2")
    payout_adjust(payout_id=payout.id, user=users["fiona"], amount=Decimal("4321.09"),
                  reason="canary adjustment")
    bobs = Payout.objects.get(person=bob, quarter="2025Q2")
    payout_adjust(payout_id=bobs.id, user=users["fiona"], amount=Decimal("8765.43"),
                  reason="canary adjustment")
    inquiry = inquiry_raise(payout_id=payout.id, user=users["alice"], bucket="",
                            text="Why this adjustment?")
    # The next quarter's payout, still open: where a difference found after approval goes.
    Payout.objects.create(person=alice, quarter="2025Q3", plan_version=payout.plan_version,
                          snapshot=payout.snapshot, payout_date=D(2025, 10, 31))
    difference = ProposedAdjustment.objects.create(
        payout=payout, snapshot=payout.snapshot, amount=Decimal("12.00"), cause="late invoice"
    )
    handoff = Handoff.objects.create(
        account=accounts["dan"], from_ae=dan, to_csm=alice, effective_date=D(2030, 1, 1),
        contacts=[{"user": "u@dan.example", "contacted": True, "notes": ""}],
    )
    Deal.objects.create(external_id="CAN-DEAL", account=accounts["charlie"], owner=charlie,
                        kind="new_annual", arr=Decimal("13579.00"), stage="proposal",
                        probability=Decimal("0.5"), created_on=D(2025, 1, 1))
    feature = FeatureRequest.objects.create(account=accounts["alice"], request="SSO",
                                            importance="high", logged_by=users["alice"])
    run = RecomputeRun.objects.get(quarter="2025Q2")
    params = {
        "account_id": accounts["alice"].id,
        "person_id": alice.id,
        "payout_id": payout.id,
        "run_id": run.id,
        "quarter": "2025Q2",
        "inquiry_id": inquiry.id,
        "difference_id": difference.id,
        "handoff_id": handoff.id,
        "request_id": feature.id,
        "region": "europe",
        # the admin's
        "object_id": alice.id,
        "id": users["alice"].id,
        "content_type_id": ContentType.objects.get_for_model(type(alice)).id,
        "app_label": "accounts",
        "url": "no/such/page/",
    }
    return dict(params=params, people=dict(people, dan=dan, ezra=ezra, hana=hana),
                accounts=accounts)


def post_data(name, world):
    people = world["people"]
    data = {
        "account_reassign": {"role": "csm", "new_owner": people["bob"].id,
                             "effective_date": "2026-01-01", "reason": "balance the books"},
        "import_upload": {"kind": "accounts", "dry_run": "on",
                          "file": SimpleUploadedFile("a.csv", b"external_id,name,billing\n"
                                                              b"N-1,New,monthly\n")},
        "recompute": {"quarter": "2025Q2", "as_of": "2025-07-14"},
        "finance_inquiry_raise": {"bucket": "", "text": "And this line?"},
        "finance_payout_reject": {"comment": "check the refund"},
        "finance_payout_paid": {"paid_on": "2025-07-31"},
        "finance_payout_adjust": {"amount": "10.00", "reason": "a fix"},
        "finance_inquiry_resolve": {"answer": "it is right"},
        "finance_difference_dismiss": {"reason": "already paid"},
        "handoff_detail": {"decision": "send_back", "comment": "try the other team first"},
        "feature_request_update": {"status": "planned", "churn_risk": "on"},
        "feature_request_new": {"request": "Audit logs", "importance": "medium",
                                "status": "open"},
    }
    return data.get(name, {})


def fingerprint():
    """Everything an action can write, in a few numbers: the database's history events
    (assignments, plans, payouts, lines, adjustments, inquiries...) and the other records."""
    return (
        Events.objects.count(),
        RowChange.objects.count(),
        PayoutEvent.objects.count(),
        PlanAcceptance.objects.count(),
        RecomputeRun.objects.count(),
        StandupPick.objects.count(),
        ImportRun.objects.count(),
        ProposedAdjustment.objects.exclude(status="open").count(),
        FeatureRequest.objects.count(),
        tuple(Handoff.objects.order_by("id").values_list("status", flat=True)),
    )


# --- the walk ---------------------------------------------------------------------------------


def outcome(response):
    """The cell a response stands for (before telling wrote from refused)."""
    if response.status_code == 302:
        location = response["Location"]
        if location.startswith("/login/?next="):
            return "login"
        if location.startswith("/admin/login/?next="):
            return "admin"
        return "redirect"
    return response.status_code


def text_of(response):
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return content.decode("utf-8", errors="replace")


def leaked(role, response, name):
    if response.status_code != 200 or role not in FORBIDDEN:
        return []
    text = text_of(response)
    allowed = EXPOSED_BY_DESIGN.get(name, set())
    return [c for who in FORBIDDEN[role] if who not in allowed for c in CANARIES[who]
            if c in text]


EXPORT_LINK = re.compile(r'<a class="export-csv" href="([^"]+)"')


@pytest.fixture
def clients(users, world):  # the world adds the former owners' logins
    made = {"anon": Client()}
    for name in ROLES[1:]:
        made[name] = Client()
        made[name].force_login(users[name])
    return made


def request(client, method, url, data, headers=None):
    with transaction.atomic():
        before = fingerprint() if method == "POST" else None
        if method == "POST":
            response = client.post(url, data, headers=headers or {})
        else:
            response = client.get(url, headers=headers or {})
        after = fingerprint() if method == "POST" else None
        transaction.set_rollback(True)
    # A message left by an action (kept in a cookie) would show on the next page: drop it,
    # so that each cell is about its own request only.
    client.cookies.pop("messages", None)
    return response, before != after


DENIED = ("login", "admin", 403, 404, 405)
# What an htmx request adds to a form (the views answer those with a fragment).
HTMX_FIELDS = {"account_reassign": {"from": "row"}, "finance_payout_approve": {"from": "queue"},
               "finance_payout_reject": {"from": "queue"}, "finance_payout_paid": {"from": "queue"},
               "finance_payout_resubmit": {"from": "queue"}}


@pytest.mark.django_db
def test_every_url_answers_every_role_as_the_matrix_says(world, clients, users):
    patterns = list(walk(get_resolver().url_patterns))
    unlisted = [key for key, route in patterns if table_name(key, route) is None]
    assert not unlisted, (
        "These URL patterns have no row in MATRIX; decide who may open them: " + str(unlisted)
    )
    listed = {name for name, _ in EXPECTED}
    unknown = listed - {table_name(k, r) for k, r in patterns}
    assert not unknown, f"MATRIX rows for URLs that no longer exist: {unknown}"

    failures = []

    def check(method, url, key, role, response, expected, wrote, name):
        got = outcome(response)
        if expected in ("wrote", "refused") and got == "redirect":
            got = "wrote" if wrote else "refused"
        elif method == "POST" and got != "redirect" and wrote:
            got = f"{got} but wrote"
        if got != expected:
            failures.append(f"{method} {url} ({key}) as {role}: {got}, expected {expected}")
        for canary in leaked(role, response, name):
            failures.append(f"{method} {url} ({key}) as {role}: shows {canary!r}")

    exports_checked = csv_files = 0
    for key, route in patterns:
        name = table_name(key, route)
        url = build_url(route, world["params"])
        methods = [m for (n, m) in EXPECTED if n == name]
        for method in methods:
            expected_row = EXPECTED[(name, method)]
            exports = set()
            for role in ROLES:
                client = clients[role]
                if name in ("logout", "admin:logout") and method == "POST":
                    client = Client()  # logging out ends the session: use a throwaway one
                    if role != "anon":
                        client.force_login(users[role])
                data = post_data(name, world) if method == "POST" else None
                response, wrote = request(client, method, url, data)
                check(method, url, key, role, response, expected_row[role], wrote, name)
                if method == "GET" and response.status_code == 200:
                    exports |= {html.unescape(h) for h in EXPORT_LINK.findall(text_of(response))}
                if method == "POST" and expected_row[role] in DENIED:
                    # The htmx flavour of the action is refused just the same.
                    data = dict(post_data(name, world), **HTMX_FIELDS.get(name, {}))
                    response, wrote = request(client, method, url, data, {"HX-Request": "true"})
                    check(method, url, key + " htmx", role, response, expected_row[role], wrote,
                          name)
            # Every table's CSV export answers each role as its page does, and leaks nothing.
            for export in sorted(exports):
                export_url = export if export.startswith("/") else url + export
                exports_checked += 1
                for role in ROLES:
                    response, _ = request(clients[role], "GET", export_url, None)
                    check("GET", export_url, key + " export", role, response, expected_row[role],
                          False, name)
                    # (A page whose table is the user's own, like "my book", may have no such
                    # table for another user and answer with the page: checked all the same.)
                    if response.get("Content-Type", "").startswith("text/csv"):
                        csv_files += 1
        if "GET" not in methods:  # POST only
            for role in ROLES:
                got = outcome(request(clients[role], "GET", url, None)[0])
                expected = "login" if role == "anon" else 405
                if got != expected:
                    failures.append(f"GET {url} ({key}) as {role}: {got}, expected {expected}")
    assert not failures, "\n".join(failures)
    assert exports_checked >= 5 and csv_files >= 10  # the walk did reach the CSV exports


@pytest.mark.django_db
def test_the_canaries_are_on_the_pages_their_owners_and_finance_see(world, clients):
    """The leak check above means something only if the canaries do show where allowed."""
    alice_account = world["params"]["account_id"]
    page = clients["alice"].get(f"/accounts/{alice_account}/")
    assert "Alice Canary Co" in page.content.decode()
    review = clients["fiona"].get(f"/finance/payouts/{world['params']['payout_id']}/")
    assert "4,321.09" in review.content.decode()
    statement = clients["maria"].get(f"/finance/statements/{world['people']['alice'].id}/2025Q2/")
    assert "4,321.09" in statement.content.decode()
    export = clients["fiona"].get("/finance/2025Q2/export.csv")
    assert export.status_code == 200  # nothing approved yet: the file has its header only
