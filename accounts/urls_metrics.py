"""The metrics page, under `metrics/`."""

from django.urls import path

from accounts import views_metrics

urlpatterns = [
    path("", views_metrics.metrics_page, name="metrics"),
]
