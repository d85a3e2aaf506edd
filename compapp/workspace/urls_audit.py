"""The audit trail's pages, under /history/."""

from django.urls import path

from compapp.workspace import views_audit

urlpatterns = [
    path("accounts/<int:account_id>/", views_audit.account_history, name="account_history"),
    path("payouts/<int:payout_id>/", views_audit.payout_history, name="payout_history"),
]
