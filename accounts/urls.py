from django.urls import path

from accounts import views

urlpatterns = [
    path("", views.home, name="home"),
    path("team/", views.team, name="team"),
    path("people/<int:person_id>/book/", views.person_book, name="person_book"),
    path("accounts/<int:account_id>/", views.account_detail, name="account_detail"),
    path("accounts/<int:account_id>/reassign/", views.reassign, name="account_reassign"),
]
