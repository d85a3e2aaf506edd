"""Finance pages and statements, under /finance/."""

from django.urls import path, register_converter

from accounts.quarters import Quarter
from payouts import views_finance as views


class QuarterConverter:
    regex = r"[0-9]{4}Q[1-4]"

    def to_python(self, value):
        return Quarter.parse(value)

    def to_url(self, value):
        return str(value)


# A name of our own, so as never to replace a converter another app registers.
register_converter(QuarterConverter, "fin_quarter")

urlpatterns = [
    path("", views.finance_home, name="finance_home"),
    path("statements/", views.my_statements, name="finance_my_statements"),
    path("statements/<int:person_id>/<fin_quarter:quarter>/", views.statement,
         name="finance_statement"),
    path("statements/<int:person_id>/<fin_quarter:quarter>/inquiries/", views.inquiry_raise,
         name="finance_inquiry_raise"),
    path("plans/<fin_quarter:quarter>/", views.plans, name="finance_plans"),
    path("plans/<fin_quarter:quarter>/accept/", views.plan_accept, name="finance_plan_accept"),
    path("payouts/<int:payout_id>/", views.payout_review, name="finance_payout"),
    path("payouts/<int:payout_id>/approve/", views.payout_action, {"action": "approve"},
         name="finance_payout_approve"),
    path("payouts/<int:payout_id>/reject/", views.payout_action, {"action": "reject"},
         name="finance_payout_reject"),
    path("payouts/<int:payout_id>/paid/", views.payout_action, {"action": "paid"},
         name="finance_payout_paid"),
    path("payouts/<int:payout_id>/resubmit/", views.payout_action, {"action": "resubmit"},
         name="finance_payout_resubmit"),
    path("payouts/<int:payout_id>/adjust/", views.payout_adjust, name="finance_payout_adjust"),
    path("inquiries/<int:inquiry_id>/resolve/", views.inquiry_resolve,
         name="finance_inquiry_resolve"),
    path("differences/<int:difference_id>/apply/", views.difference_apply,
         name="finance_difference_apply"),
    path("differences/<int:difference_id>/dismiss/", views.difference_dismiss,
         name="finance_difference_dismiss"),
    path("<fin_quarter:quarter>/", views.queue, name="finance_queue"),
    path("<fin_quarter:quarter>/close/", views.quarter_close, name="finance_quarter_close"),
    path("<fin_quarter:quarter>/approve/", views.bulk_approve, name="finance_bulk_approve"),
    path("<fin_quarter:quarter>/differences/", views.differences_detect,
         name="finance_differences_detect"),
    path("<fin_quarter:quarter>/statements/email/", views.statements_email,
         name="finance_statements_email"),
    path("<fin_quarter:quarter>/export.csv", views.export_csv, name="finance_export"),
]
