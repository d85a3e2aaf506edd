from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from compapp.health import health

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("health/", health, name="health"),
    path("", include("compapp.workspace.urls_book")),
    path("", include("accounts.urls")),
    path("imports/", include("compapp.workspace.urls_imports")),
    path("", include("payouts.urls")),
    path("finance/", include("payouts.urls_finance")),
    path("team/", include("compapp.workspace.urls_team")),
    path("metrics/", include("compapp.workspace.urls_metrics")),
    path("history/", include("compapp.workspace.urls_audit")),
]

# 400, 403 and 404 are Django's views with the product's templates (templates/4xx.html).
handler500 = "compapp.errors.server_error"
