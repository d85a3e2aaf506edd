from django.conf import settings
from django.contrib.auth.views import redirect_to_login

OPEN_PREFIXES = ("/login/", "/static/", "/health/", "/admin/")


class LoginRequiredMiddleware:
    """Every page requires login; the login page, static files and the health check do not.

    The admin has its own login and permission checks.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.user.is_authenticated and not request.path.startswith(OPEN_PREFIXES):
            return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
        return self.get_response(request)


class SlidingSessionMiddleware:
    """Sessions expire after inactivity: a request renews the session's expiry, writing it at
    most once every SESSION_RENEW_AFTER_SECONDS instead of on every page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        import time

        session = getattr(request, "session", None)
        if session is not None and request.user.is_authenticated:
            now = int(time.time())
            if now - session.get("_renewed_at", 0) >= settings.SESSION_RENEW_AFTER_SECONDS:
                session["_renewed_at"] = now  # marks the session modified: saved, expiry reset
        return self.get_response(request)
