"""Every link of the navigation, for every demo role, on a laptop and on a phone: each
answers 200, the page is no wider than the window (tables scroll inside their card) and the
console shows no error. Playwright drives Debian's Chromium against the live server with the
demo company seeded; skipped, with the reason, when Chromium is not installed.
"""

import datetime
import io
import os
from pathlib import Path

import pytest
from django.core.management import call_command

from accounts.models import Person
from compapp.demo.logins import DEMO_PASSWORD
from tests.system.test_browser import ARGS, CHROMIUM, browser  # noqa: F401 - fixture

VIEWPORTS = ((1366, 768), (390, 844))
NO_OVERFLOW = "() => document.documentElement.scrollWidth <= window.innerWidth + 1"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason=f"{CHROMIUM} is missing: apt-get install -y chromium"),
]


def demo_logins():
    """One login per kind of demo person: an AE, a CSM, an onboarding specialist, both
    managers (sales and CS), finance and RevOps."""
    current = Person.objects.filter(end_date__isnull=True).order_by("name")
    emails = {role: current.filter(roles__contains=[role]).first().email
              for role in ("ae", "csm", "onboarding", "finance", "revops")}
    for manager in current.filter(roles__contains=["manager"]):
        emails[f"manager ({manager.team})"] = manager.email
    return emails


def walk(browser, base_url, email, width, height):  # noqa: F811
    """Log in, then open each navigation link; returns the problems found."""
    context = browser.new_context(base_url=base_url, viewport={"width": width, "height": height})
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(f"page error: {error}"))
    problems = []
    try:
        page.goto("/login/")
        page.fill("#id_username", email)
        page.fill("#id_password", DEMO_PASSWORD)
        with page.expect_navigation():
            page.click("form.card button[type=submit]")
        assert "/login/" not in page.url, f"{email} could not log in"
        links = page.eval_on_selector_all(
            "header nav a", "as => as.map(a => [a.textContent.trim(), a.getAttribute('href')])")
        if not links:
            problems.append("no navigation")
        if width >= 1366:
            nav_lines = page.evaluate(
                "() => new Set([...document.querySelectorAll('header nav a')]"
                ".map(a => Math.round(a.getBoundingClientRect().top))).size")
            if nav_lines != 1:
                problems.append(f"the navigation takes {nav_lines} lines")
        for label, href in links:
            errors.clear()
            response = page.goto(href)
            where = f"{label} ({href})"
            if response is None or response.status != 200:
                problems.append(f"{where}: {response.status if response else 'no answer'}")
                continue
            if not page.evaluate(NO_OVERFLOW):
                wide = page.evaluate("document.documentElement.scrollWidth")
                problems.append(f"{where}: {wide}px wide")
            if errors:
                problems.append(f"{where}: console {errors[:3]}")
    finally:
        context.close()
    return problems


@pytest.mark.django_db(transaction=True)
def test_every_role_opens_every_link_of_its_navigation_on_a_laptop_and_a_phone(
    browser, live_server  # noqa: F811
):
    today = datetime.date.today()
    call_command("seed_demo", "--today", today.isoformat(), stdout=io.StringIO())
    problems = {}
    for role, email in demo_logins().items():
        for width, height in VIEWPORTS:
            found = walk(browser, live_server.url, email, width, height)
            if found:
                problems[f"{role} at {width}px"] = found
    assert not problems, "\n".join(f"{who}: {found}" for who, found in problems.items())


PICTURES = Path(__file__).resolve().parents[2] / "docs" / "pictures"


@pytest.mark.django_db(transaction=True)
def test_a_reps_page_and_the_finance_queue_as_the_readme_shows_them(
    browser, live_server, tmp_path  # noqa: F811
):
    """The demo as a rep and finance see it first. With COMPAPP_PICTURES=1 the screenshots
    are written to docs/pictures/ (the README's pictures); otherwise to a temporary folder."""
    from accounts.quarters import Quarter
    from payouts.models import Payout
    from payouts.services import quarter_close

    today = datetime.date.today()
    previous = Quarter.containing(today).previous()
    call_command("seed_demo", "--today", today.isoformat(), stdout=io.StringIO())
    # As the run command does: the previous quarter projected on its last day, then today.
    call_command("recompute", "--quarter", str(previous), "--as-of", previous.end.isoformat(),
                 stdout=io.StringIO())
    for quarter in (previous, Quarter.containing(today)):
        call_command("recompute", "--quarter", str(quarter), "--as-of", today.isoformat(),
                     stdout=io.StringIO())
    closable = today > previous.cutoff
    if closable:
        quarter_close(quarter=previous, today=today)
    folder = PICTURES if os.environ.get("COMPAPP_PICTURES") else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    logins = demo_logins()

    context = browser.new_context(base_url=live_server.url,
                                  viewport={"width": 1366, "height": 900})
    page = context.new_page()
    try:
        _log_in(page, logins["ae"])
        page.goto("/attainment/")
        why = page.inner_text("#why-two")
        assert why.startswith("Commission pays each bucket's ARR at its rate:")
        assert page.locator(".figure.bucket").count() == 4
        page.screenshot(path=str(folder / "rep-attainment.png"))
        context.clear_cookies()
        _log_in(page, logins["finance"])
        page.goto(f"/finance/{previous}/")
        rows = page.locator("table.queue tbody tr")
        if closable:
            assert rows.count() == Payout.objects.filter(quarter=str(previous)).count() > 0
            assert page.locator("text=Approve pending payouts…").count() == 1
        page.screenshot(path=str(folder / "finance-queue.png"))
    finally:
        context.close()
    assert (folder / "rep-attainment.png").stat().st_size > 10_000


def _log_in(page, email):
    page.goto("/login/")
    page.fill("#id_username", email)
    page.fill("#id_password", DEMO_PASSWORD)
    with page.expect_navigation():
        page.click("form.card button[type=submit]")
