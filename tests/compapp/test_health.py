import pytest


@pytest.mark.django_db
def test_the_health_endpoint_reports_database_and_redis_without_login(client):
    response = client.get("/health/")
    assert response.status_code == 200
    body = response.json()
    assert body["database"] == "ok" and body["redis"] == "ok" and body["status"] == "ok"
    assert isinstance(body["celery_workers"], int)
