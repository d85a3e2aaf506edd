from django.urls import path

from accounts import views

urlpatterns = [
    path("attainment/", views.home, name="my_attainment"),
    path("recompute/", views.home, name="recompute"),
]
