"""GET /health/: database, Redis and Celery worker status, for a load balancer and for the
run command to wait on. 200 when the database and Redis answer; the worker is reported."""

from django.db import connection
from django.http import JsonResponse


def _database():
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return "ok"
    except Exception as exc:  # any failure is reported, not raised
        return f"error: {exc.__class__.__name__}"


def _redis():
    import redis
    from django.conf import settings

    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_timeout=1).ping()
        return "ok"
    except Exception as exc:
        return f"error: {exc.__class__.__name__}"


def _workers():
    from compapp.celery import app

    try:
        # A second: a worker busy starting or running tasks may take more than half.
        replies = app.control.inspect(timeout=1.0).ping() or {}
        return len(replies)
    except Exception:
        return 0


def health(request):
    report = {"database": _database(), "redis": _redis()}
    report["celery_workers"] = _workers() if report["redis"] == "ok" else 0
    healthy = report["database"] == "ok" and report["redis"] == "ok"
    report["status"] = "ok" if healthy else "error"
    return JsonResponse(report, status=200 if healthy else 503)
