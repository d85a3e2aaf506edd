from accounts.permissions import roles_of
from compapp.navigation import navigation


def roles(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"user_roles": set(), "nav_groups": []}
    return {"user_roles": roles_of(user), "nav_groups": lambda: navigation(user)}
