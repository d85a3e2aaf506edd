"""Who may see what. Groups carry the roles; object scoping is a queryset filter."""

from django.core.exceptions import PermissionDenied
from django.db.models.expressions import RawSQL

from accounts.models import Person

TEAM_SQL = """
WITH RECURSIVE team(id) AS (
    SELECT %s::bigint
    UNION
    SELECT p.id FROM accounts_person p JOIN team t ON p.manager_id = t.id
)
SELECT id FROM team
"""

GROUPS = ("rep", "manager", "finance", "revops")


def roles_of(user):
    if not user.is_authenticated:
        return set()
    cached = getattr(user, "_compapp_roles", None)
    if cached is None:
        cached = set(user.groups.values_list("name", flat=True))
        if user.is_superuser:
            cached |= {"finance", "revops", "manager"}
        user._compapp_roles = cached
    return cached


def person_for_user(user):
    """The Person linked to a login by email, or None."""
    if not user.is_authenticated or not user.email:
        return None
    cached = getattr(user, "_compapp_person", False)
    if cached is False:
        cached = Person.objects.filter(email__iexact=user.email).first()
        user._compapp_person = cached
    return cached


def sees_everyone(user):
    return bool(roles_of(user) & {"finance", "revops"})


def sees_own_book_only(user):
    """A rep (AE, CSM, onboarding) without manager, finance or RevOps powers: they open an
    account only while it is in their own book."""
    return not roles_of(user) & {"manager", "finance", "revops"}


def visible_people(user):
    """People whose books and figures this user may see."""
    if sees_everyone(user):
        return Person.objects.all()
    me = person_for_user(user)
    if me is None:
        return Person.objects.none()
    if "manager" not in roles_of(user):
        return Person.objects.filter(id=me.id)
    # A manager's team: everyone reporting to them, directly or through a team lead, read
    # in one recursive query, a subquery of the returned queryset.
    return Person.objects.filter(id__in=RawSQL(TEAM_SQL, [me.id]))


def require_role(user, *roles):
    if not roles_of(user) & set(roles):
        raise PermissionDenied
