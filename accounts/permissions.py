"""Who may see what. Groups carry the roles; object scoping is a queryset filter."""

from django.core.exceptions import PermissionDenied

from accounts.models import Person

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


def visible_people(user):
    """People whose books and figures this user may see."""
    if sees_everyone(user):
        return Person.objects.all()
    me = person_for_user(user)
    if me is None:
        return Person.objects.none()
    ids = {me.id}
    if "manager" in roles_of(user):
        # A manager's team: everyone reporting to them, directly or through a team lead.
        frontier = {me.id}
        while frontier:
            frontier = set(
                Person.objects.filter(manager_id__in=frontier).values_list("id", flat=True)
            ) - ids
            ids |= frontier
    return Person.objects.filter(id__in=ids)


def require_role(user, *roles):
    if not roles_of(user) & set(roles):
        raise PermissionDenied
