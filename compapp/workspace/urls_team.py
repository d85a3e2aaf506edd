"""Team pages, under `team/` (the team page itself is `accounts.urls`' `team/`)."""

from django.urls import path

from compapp.workspace import views_team

urlpatterns = [
    path("handoffs/", views_team.handoff_list, name="handoff_list"),
    path("handoffs/new/<int:account_id>/", views_team.handoff_new, name="handoff_new"),
    path("handoffs/<int:handoff_id>/", views_team.handoff_detail, name="handoff_detail"),
    path("standup/sales/<str:region>/", views_team.standup_sales, name="standup_sales"),
    path("standup/cs/", views_team.standup_cs, name="standup_cs"),
    path("balance/", views_team.balance, name="balance"),
    path("feature-requests/", views_team.feature_request_list, name="feature_request_list"),
    path(
        "feature-requests/<int:request_id>/",
        views_team.feature_request_update,
        name="feature_request_update",
    ),
    path(
        "accounts/<int:account_id>/feature-requests/new/",
        views_team.feature_request_new,
        name="feature_request_new",
    ),
]
