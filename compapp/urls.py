from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from compapp.health import health

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("health/", health, name="health"),
    path("", include("accounts.urls")),
    path("imports/", include("accounts.urls_imports")),
    path("", include("payouts.urls")),
    path("finance/", include("payouts.urls_finance")),
    path("team/", include("accounts.urls_team")),
    path("metrics/", include("accounts.urls_metrics")),
    path("history/", include("accounts.urls_audit")),
]

# 400, 403 and 404 are Django's views with the product's templates (templates/4xx.html).
handler500 = "compapp.errors.server_error"
