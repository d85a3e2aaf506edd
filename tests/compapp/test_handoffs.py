"""AE to CSM hand-offs (SPEC 6): the AE proposes with the handbook's checks, the AE's
manager approves (the AE assignment ends the day before, the CSM's starts inherited, in one
transaction) or sends it back; refusals say why; outsiders see nothing."""

import datetime
import html
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Assignment, Handoff, RowChange
from accounts.quarters import Quarter
from accounts.services import ReassignError
from compapp.workspace.handoffs import (
    HandoffError,
    handoff_approve,
    handoff_checks,
    handoff_propose,
    handoff_send_back,
)
from payouts.models import PersonPlan, QuotaAmendment
from tests.conftest import assign, make_account, make_person, make_user

TODAY = timezone.localdate()
EFFECTIVE = TODAY + datetime.timedelta(days=7)
AE_START = datetime.date(2024, 1, 1)


def text(response) -> str:
    content = response.content.decode()
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", content)))


@pytest.fixture
def umbrella(people):
    """Charlie (AE, Omar's team) holds Umbrella: 3 active users, two products."""
    account = make_account(
        "UMB", name="Umbrella", active_users=3, products=["product analytics", "session replay"]
    )
    assign(account, people["charlie"], role="ae", start=AE_START)
    return account


def proposal_data(csm, *, effective=EFFECTIVE, contacted=(True, True, False)):
    data = {
        "contact-TOTAL_FORMS": "3",
        "contact-INITIAL_FORMS": "0",
        "contact-MIN_NUM_FORMS": "0",
        "contact-MAX_NUM_FORMS": "3",
        "to_csm": csm.id,
        "effective_date": effective.isoformat(),
        "other_team_could_use": "yes",
        "other_team_notes": "The mobile team tracks nothing yet",
        "teams_enterprise_would_help": "no",
        "teams_enterprise_notes": "",
    }
    for i, done in enumerate(contacted):
        data[f"contact-{i}-user"] = f"user{i}@umbrella.example"
        data[f"contact-{i}-notes"] = f"three emails to user {i}" if done else "no answer"
        if done:
            data[f"contact-{i}-contacted"] = "on"
    return data


def propose(account, csm, user, **kw):
    defaults = dict(
        effective_date=EFFECTIVE,
        contacts=[{"user": "ann@umbrella.example", "contacted": True, "notes": ""}],
        other_team_could_use=False,
        teams_enterprise_would_help=False,
    )
    defaults.update(kw)
    return handoff_propose(account=account, to_csm=csm, by_user=user, **defaults)


@pytest.mark.django_db
def test_the_ae_sees_the_checklist_with_one_row_per_active_user(client_for, umbrella):
    response = client_for("charlie").get(reverse("handoff_new", args=[umbrella.id]))
    assert response.status_code == 200
    content = response.content.decode()
    assert content.count('name="contact-') == 3 * 3 + 4  # 3 rows of 3 fields + management
    page = text(response)
    assert "3 active users seen last month" in page
    assert (
        "Not using: web analytics, feature flags, experiments, surveys, data warehouse, "
        "error tracking." in page
    )


@pytest.mark.django_db
def test_propose_then_approve_moves_the_account_in_one_go(client_for, people, users, umbrella):
    charlie, alice = people["charlie"], people["alice"]
    PersonPlan.objects.create(
        person=charlie,
        quarter=str(Quarter.containing(EFFECTIVE)),
        plan="ae_commission",
        quota=Decimal("200000"),
    )
    response = client_for("charlie").post(
        reverse("handoff_new", args=[umbrella.id]), proposal_data(alice)
    )
    handoff = Handoff.objects.get(account=umbrella)
    assert response.status_code == 302
    assert response["Location"] == reverse("handoff_detail", args=[handoff.id])
    assert (handoff.status, handoff.from_ae, handoff.to_csm, handoff.proposed_by) == (
        "proposed",
        charlie,
        alice,
        users["charlie"],
    )
    assert [c["contacted"] for c in handoff.contacts] == [True, True, False]
    assert handoff.other_team_could_use is True and handoff.teams_enterprise_would_help is False
    assert RowChange.objects.filter(model="Handoff", source="handoff_propose").count() == 1

    # The manager sees every "no" highlighted: 2 of 3 users, products, Teams/Enterprise.
    client = client_for("omar")
    assert umbrella.name in text(client.get(reverse("handoff_list")))
    detail = client.get(reverse("handoff_detail", args=[handoff.id]))
    page = text(detail)
    assert '3 "no"' in page
    assert "no 2 of 3 active users" in page
    assert "user2@umbrella.example: not contacted several times (no answer)" in page
    assert "no not using web analytics" in page
    assert "Teams or Enterprise features would help them no " in page
    assert "Another team of the customer could use the product yes The mobile team" in page
    assert len(re.findall(r'class="check-no"', detail.content.decode())) == 3
    assert "Approve the move" in page

    response = client.post(
        reverse("handoff_detail", args=[handoff.id]),
        {"decision": "approve", "comment": "Expansion done; the mobile team is a CSM job."},
        follow=True,
    )
    page = text(response)
    assert f"Umbrella is Alice's (CSM, inherited) from {EFFECTIVE:%Y-%m-%d}" in page

    ae = Assignment.objects.get(account=umbrella, role="ae")
    assert ae.end_date == EFFECTIVE - datetime.timedelta(days=1)
    csm = Assignment.objects.get(account=umbrella, role="csm")
    assert (csm.owner, csm.start_date, csm.end_date, csm.inherited, csm.created_by) == (
        alice,
        EFFECTIVE,
        None,
        True,
        users["omar"],
    )
    handoff.refresh_from_db()
    assert (handoff.status, handoff.decided_by) == ("approved", users["omar"])
    changes = RowChange.objects.filter(source=f"handoff #{handoff.id}").order_by("key")
    assert [(c.key, c.changed_by) for c in changes] == [
        ("UMB/ae", users["omar"]),
        ("UMB/csm", users["omar"]),
    ]
    assert changes[0].before["assignments"][0]["end_date"] is None
    assert changes[0].after["assignments"][0]["end_date"] == (
        EFFECTIVE - datetime.timedelta(days=1)
    ).isoformat()

    # The move is listed for the AE's quota amendment, on the hand-off and on the list.
    for url in (reverse("handoff_detail", args=[handoff.id]), reverse("handoff_list")):
        page = text(client.get(url))
        assert "Umbrella Charlie Alice $200,000.00" in page
        assert "not yet: amend the quota" in page
    QuotaAmendment.objects.create(
        person_plan=PersonPlan.objects.get(person=charlie),
        previous_quota=Decimal("200000"),
        new_quota=Decimal("180000"),
        reason="Umbrella handed to Alice",
        amended_by=users["omar"],
    )
    assert "not yet: amend the quota" not in text(client.get(reverse("handoff_list")))


@pytest.mark.django_db
def test_the_manager_sends_it_back_with_a_comment(client_for, people, users, umbrella):
    handoff = propose(umbrella, people["alice"], users["charlie"])
    client = client_for("omar")
    url = reverse("handoff_detail", args=[handoff.id])
    page = text(client.post(url, {"decision": "send_back", "comment": ""}, follow=True))
    assert "Nothing decided. Say why the hand-off goes back to the AE." in page
    client.post(url, {"decision": "send_back", "comment": "Talk to their data team first."})
    handoff.refresh_from_db()
    assert (handoff.status, handoff.manager_comment, handoff.decided_by) == (
        "sent_back",
        "Talk to their data team first.",
        users["omar"],
    )
    assert Assignment.objects.get(account=umbrella).end_date is None
    assert not Assignment.objects.filter(role="csm").exists()
    # The AE reads the comment and can propose again, starting from the last answers.
    client = client_for("charlie")
    assert "Talk to their data team first." in text(client.get(url))
    page = text(client.get(reverse("handoff_new", args=[umbrella.id])))
    assert "sent back" in page and "Talk to their data team first." in page
    again = propose(umbrella, people["alice"], users["charlie"])
    assert again.status == "proposed"


@pytest.mark.django_db
def test_a_failure_midway_leaves_nothing_half_written(people, users, umbrella, monkeypatch):
    handoff = propose(umbrella, people["alice"], users["charlie"])
    before = RowChange.objects.count()

    def broken(*args, **kwargs):
        raise RuntimeError("the audit log is down")

    monkeypatch.setattr(RowChange.objects, "bulk_create", broken)
    with pytest.raises(RuntimeError):
        handoff_approve(handoff=handoff, by_user=users["omar"])
    assert Assignment.objects.get(account=umbrella, role="ae").end_date is None
    assert not Assignment.objects.filter(account=umbrella, role="csm").exists()
    handoff.refresh_from_db()
    assert (handoff.status, handoff.decided_by) == ("proposed", None)
    assert RowChange.objects.count() == before


@pytest.mark.django_db(transaction=True)
def test_a_clash_found_at_approval_rolls_back_the_ae_side_too(people, users, umbrella):
    handoff = propose(umbrella, people["alice"], users["charlie"])
    # Someone gave Umbrella a CSM after the proposal: the CSM assignment cannot start.
    assign(umbrella, people["bob"], role="csm", start=TODAY)
    with pytest.raises(ReassignError, match="overlap another CSM assignment of Umbrella"):
        handoff_approve(handoff=handoff, by_user=users["omar"])
    assert Assignment.objects.get(account=umbrella, role="ae").end_date is None
    assert list(Assignment.objects.filter(role="csm").values_list("owner__name", flat=True)) == [
        "Bob"
    ]
    handoff.refresh_from_db()
    assert handoff.status == "proposed"
    assert not RowChange.objects.exclude(source="handoff_propose").exists()


@pytest.mark.django_db
def test_only_an_ae_proposes(client_for, people, users, umbrella):
    acme = make_account("ACME", name="Acme", active_users=2)
    assign(acme, people["alice"])
    with pytest.raises(HandoffError, match="Only an AE can propose a hand-off to a CSM."):
        propose(acme, people["bob"], users["alice"])
    response = client_for("alice").get(reverse("handoff_new", args=[acme.id]))
    assert response.status_code == 403
    assert "Only an AE can propose a hand-off to a CSM." in text(response)
    response = client_for("alice").post(reverse("handoff_new", args=[acme.id]), {})
    assert response.status_code == 403
    assert not Handoff.objects.exists()


@pytest.mark.django_db
def test_only_the_accounts_ae_proposes(people, users, umbrella):
    dave = make_person("dave@example.com", roles=["ae"], team="sales", manager=people["omar"])
    dave_user = make_user("dave@example.com", "rep")
    with pytest.raises(HandoffError, match="You do not own Umbrella as its AE"):
        propose(umbrella, people["alice"], dave_user)
    assert dave and not Handoff.objects.exists()


@pytest.mark.django_db
def test_the_new_owner_must_be_a_csm(people, users, umbrella):
    with pytest.raises(HandoffError, match="Omar is not a CSM; hand the account to a CSM."):
        propose(umbrella, people["omar"], users["charlie"])
    assert not Handoff.objects.exists()


@pytest.mark.django_db
def test_a_second_open_hand_off_of_the_same_account_is_refused(client_for, people, users,
                                                               umbrella):
    propose(umbrella, people["alice"], users["charlie"])
    with pytest.raises(HandoffError, match="Umbrella already has an open hand-off"):
        propose(umbrella, people["bob"], users["charlie"])
    page = text(
        client_for("charlie").post(
            reverse("handoff_new", args=[umbrella.id]), proposal_data(people["bob"]), follow=True
        )
    )
    assert "Not proposed. Umbrella already has an open hand-off" in page
    assert Handoff.objects.count() == 1


@pytest.mark.django_db
def test_an_effective_date_in_the_past_is_refused(people, users, umbrella):
    with pytest.raises(HandoffError, match="cannot be in the past"):
        propose(umbrella, people["alice"], users["charlie"],
                effective_date=TODAY - datetime.timedelta(days=1))


@pytest.mark.django_db
def test_a_rep_cannot_approve_even_their_own_hand_off(client_for, people, users, umbrella):
    handoff = propose(umbrella, people["alice"], users["charlie"])
    with pytest.raises(HandoffError, match="Only the AE's manager"):
        handoff_approve(handoff=handoff, by_user=users["charlie"])
    page = text(
        client_for("charlie").post(
            reverse("handoff_detail", args=[handoff.id]), {"decision": "approve"}, follow=True
        )
    )
    assert "Nothing decided. Only the AE's manager can approve or send back a hand-off." in page
    handoff.refresh_from_db()
    assert handoff.status == "proposed"
    assert Assignment.objects.get(account=umbrella).end_date is None


@pytest.mark.django_db
def test_a_manager_of_another_team_cannot_decide(client_for, people, users, umbrella):
    handoff = propose(umbrella, people["alice"], users["charlie"])
    # Maria runs Alice, the CSM receiving it: she sees the hand-off but does not decide it.
    client = client_for("maria")
    detail = client.get(reverse("handoff_detail", args=[handoff.id]))
    assert detail.status_code == 200 and "Approve the move" not in text(detail)
    page = text(
        client.post(
            reverse("handoff_detail", args=[handoff.id]), {"decision": "approve"}, follow=True
        )
    )
    assert "Nothing decided. Charlie is not in your team: only their manager can decide." in page
    with pytest.raises(HandoffError, match="not in your team"):
        handoff_send_back(handoff=handoff, by_user=users["maria"], comment="no")
    handoff.refresh_from_db()
    assert handoff.status == "proposed"
    assert not Assignment.objects.filter(role="csm").exists()
    # She sees it arriving on her list, not among the hand-offs waiting for her decision.
    listed = text(client.get(reverse("handoff_list")))
    waiting, arriving = listed.split("Arriving to your CSMs", 1)
    assert umbrella.name not in waiting
    assert umbrella.name in arriving.split("Moved this quarter", 1)[0]


@pytest.mark.django_db
def test_the_aes_manager_decides_and_does_not_see_it_arriving(client_for, people, users,
                                                              umbrella):
    propose(umbrella, people["alice"], users["charlie"])
    listed = text(client_for("omar").get(reverse("handoff_list")))
    waiting, arriving = listed.split("Arriving to your CSMs", 1)
    assert umbrella.name in waiting
    assert umbrella.name not in arriving
    assert "No hand-off to your CSMs is waiting for another manager." in arriving


@pytest.mark.django_db
def test_a_decided_hand_off_cannot_be_decided_again(people, users, umbrella):
    handoff = propose(umbrella, people["alice"], users["charlie"])
    handoff_approve(handoff=handoff, by_user=users["omar"])
    with pytest.raises(HandoffError, match="already approved"):
        handoff_approve(handoff=handoff, by_user=users["omar"])
    assert Assignment.objects.filter(account=umbrella, role="csm").count() == 1


@pytest.mark.django_db
def test_the_checks_advise_and_do_not_block(people, users, umbrella):
    handoff = propose(
        umbrella,
        people["alice"],
        users["charlie"],
        contacts=[],
        other_team_could_use=False,
        teams_enterprise_would_help=None,
    )
    assert [c.ok for c in handoff_checks(handoff)] == [False, False, False, False]
    handoff_approve(handoff=handoff, by_user=users["omar"])
    assert Assignment.objects.get(account=umbrella, role="csm").owner == people["alice"]


@pytest.mark.django_db
def test_reps_get_403_on_the_list_and_outsiders_404(client_for, people, users, umbrella):
    handoff = propose(umbrella, people["alice"], users["charlie"])
    assert client_for("charlie").get(reverse("handoff_list")).status_code == 403
    assert client_for("fiona").get(reverse("handoff_list")).status_code == 403
    bob = client_for("bob")  # neither Umbrella's AE nor the CSM receiving it
    assert bob.get(reverse("handoff_new", args=[umbrella.id])).status_code == 404
    assert bob.get(reverse("handoff_detail", args=[handoff.id])).status_code == 404
    response = bob.post(reverse("handoff_detail", args=[handoff.id]), {"decision": "approve"})
    assert response.status_code == 404
    # The CSM receiving it and the AE proposing it see it.
    assert client_for("alice").get(reverse("handoff_detail", args=[handoff.id])).status_code == 200
    assert (
        client_for("charlie").get(reverse("handoff_detail", args=[handoff.id])).status_code == 200
    )


@pytest.mark.django_db
def test_the_account_page_links_its_ae_to_the_hand_off(client_for, people, users, umbrella):
    url = reverse("account_detail", args=[umbrella.id])
    ae_page = client_for("charlie").get(url).content.decode()
    assert reverse("handoff_new", args=[umbrella.id]) in ae_page
    assert "Propose a hand-off" not in text(client_for("omar").get(url))
    propose(umbrella, people["alice"], users["charlie"])
    assert "waiting for a decision" in text(client_for("omar").get(url))
