import datetime

import pytest
from django.db import IntegrityError, transaction

from accounts.models import Assignment
from tests.conftest import assign, make_account


@pytest.mark.django_db
def test_the_database_refuses_two_owners_of_one_account_and_role_on_the_same_day(people):
    account = make_account("A-1")
    assign(account, people["alice"], start=datetime.date(2025, 1, 1),
           end=datetime.date(2025, 3, 31))
    with pytest.raises(IntegrityError), transaction.atomic():
        Assignment.objects.create(
            account=account, owner=people["bob"], role="csm", start_date=datetime.date(2025, 3, 31)
        )
    # The next day is free, and another role may overlap.
    assign(account, people["bob"], start=datetime.date(2025, 4, 1))
    assign(account, people["charlie"], role="ae", start=datetime.date(2025, 2, 1))
    assert Assignment.objects.filter(account=account).count() == 3


@pytest.mark.django_db
def test_an_open_assignment_blocks_every_later_start(people):
    account = make_account("A-2")
    assign(account, people["alice"], start=datetime.date(2025, 1, 1))
    with pytest.raises(IntegrityError), transaction.atomic():
        assign(account, people["bob"], start=datetime.date(2030, 1, 1))
