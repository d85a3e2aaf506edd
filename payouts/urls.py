from django.urls import path

from payouts import views, views_whatif

urlpatterns = [
    path("attainment/", views.my_attainment, name="my_attainment"),
    path("people/<int:person_id>/attainment/", views.person_attainment,
         name="person_attainment"),
    path("people/<int:person_id>/at-risk/", views.person_at_risk, name="person_at_risk"),
    path("people/<int:person_id>/what-if/", views_whatif.person_what_if,
         name="person_what_if"),
    path("recompute/", views.recompute, name="recompute"),
    path("recompute/<int:run_id>/", views.recompute_run, name="recompute_run"),
    path("recompute/<int:run_id>/resume/", views.recompute_run_resume,
         name="recompute_run_resume"),
    path("recompute/<int:run_id>/progress.json", views.recompute_progress,
         name="recompute_progress"),
]
