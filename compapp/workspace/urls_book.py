"""My book, someone's book and the team page."""

from django.urls import path

from compapp.workspace import views_book

urlpatterns = [
    path("", views_book.home, name="home"),
    path("team/", views_book.team, name="team"),
    path("people/<int:person_id>/book/", views_book.person_book, name="person_book"),
]
