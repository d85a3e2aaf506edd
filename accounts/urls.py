from django.urls import path

from accounts import views

urlpatterns = [
    path("accounts/search/", views.account_search, name="account_search"),
    path("accounts/<int:account_id>/", views.account_detail, name="account_detail"),
    path("accounts/<int:account_id>/reassign/", views.reassign, name="account_reassign"),
]
