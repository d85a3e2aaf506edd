"""The server error page. Django's own 500 view renders 500.html without the request, so the
page would lose the navigation; this one renders it with the request (the navigation for the
signed-in user) and falls back to no context at all when that fails too, because whatever
broke the view (often the database) may break the context processors as well."""

import logging

from django.http import HttpResponseServerError
from django.template import loader

logger = logging.getLogger(__name__)

LAST_RESORT = (
    "<!doctype html><title>Server error</title><h1>Something went wrong on our side</h1>"
    "<p>The error has been logged. Try again in a moment.</p>"
)


def server_error(request, template_name="500.html"):
    try:
        return HttpResponseServerError(loader.render_to_string(template_name, request=request))
    except Exception:
        logger.exception("the 500 page could not render with the request; rendering it without")
    try:
        return HttpResponseServerError(loader.render_to_string(template_name))
    except Exception:
        logger.exception("the 500 page could not render")
    return HttpResponseServerError(LAST_RESORT)
