from django.urls import path

from compapp.workspace import views_imports

urlpatterns = [
    path("", views_imports.import_upload, name="import_upload"),
]
