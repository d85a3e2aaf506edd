"""The metrics page, under `metrics/`."""

from django.urls import path

from compapp.workspace import views_metrics

urlpatterns = [
    path("", views_metrics.metrics_page, name="metrics"),
]
