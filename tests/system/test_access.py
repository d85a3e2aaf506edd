import pytest
from django.urls import reverse

from tests.conftest import assign, make_account


@pytest.mark.django_db
def test_the_login_page_works_and_logs_a_person_in(client, users):
    page = client.get(reverse("login"))
    assert page.status_code == 200
    assert b'name="username"' in page.content and b'name="password"' in page.content
    response = client.post(
        reverse("login"), {"username": "alice@example.com", "password": "pw-for-tests-1"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert client.get(reverse("home")).status_code == 200


@pytest.mark.django_db
def test_a_wrong_password_is_refused(client, users):
    response = client.post(reverse("login"), {"username": "alice@example.com", "password": "no"})
    assert response.status_code == 200
    assert not response.wsgi_request.user.is_authenticated
    assert client.get(reverse("home")).status_code == 302


@pytest.mark.django_db
def test_logout_ends_the_session(client_for):
    client = client_for("alice")
    assert client.get(reverse("home")).status_code == 200
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert response["Location"] == reverse("login")
    after = client.get(reverse("home"))
    assert after.status_code == 302
    assert after["Location"].startswith(reverse("login"))


@pytest.mark.django_db
def test_anonymous_users_are_sent_to_login_from_every_page(client, people):
    account = make_account("A-1")
    assign(account, people["alice"])
    urls = [
        reverse("home"),
        reverse("team"),
        reverse("person_book", args=[people["alice"].id]),
        reverse("account_detail", args=[account.id]),
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"] == f"{reverse('login')}?next={url}"
    response = client.post(reverse("account_reassign", args=[account.id]), {"role": "csm"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert account.assignments.count() == 1


@pytest.mark.django_db
def test_the_admin_lists_every_model_of_both_apps(client, people):
    from django.contrib import admin
    from django.contrib.auth.models import User

    from accounts.models import ImportRun, RowChange

    account = make_account("A-1")
    assign(account, people["alice"])
    ImportRun.objects.create(kind="accounts", filename="a.csv", sha256="0" * 64)
    RowChange.objects.create(model="Assignment", key="A-1/csm", source="reassign")
    client.force_login(User.objects.create_superuser("root", "root@example.com", "pw-root-1"))
    models = [m for m in admin.site._registry if m._meta.app_label in ("accounts", "payouts")]
    assert {m.__name__ for m in models} >= {
        "Person",
        "Account",
        "Assignment",
        "Lead",
        "Invoice",
        "Usage",
        "Deal",
        "ImportRun",
        "RowChange",
        "PlanVersion",
        "PersonPlan",
        "QuotaAmendment",
        "RecomputeRun",
        "AttainmentSnapshot",
    }
    for model in models:
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        assert client.get(url).status_code == 200, url
    # History rows are read-only, even for a superuser.
    assert client.get(reverse("admin:accounts_rowchange_add")).status_code == 403
    change = reverse("admin:accounts_account_change", args=[account.id])
    assert client.get(change).status_code == 200
