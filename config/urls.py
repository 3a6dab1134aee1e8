from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import include, path, register_converter
from django.views.defaults import page_not_found

from config.inputs import IdConverter
from config.views import healthz
from workspace.views.home import home

# Before the includes below import the apps' URLconfs, which use <id:...> for every id.
register_converter(IdConverter, "id")

urlpatterns = [
    path("", home, name="home"),
    path("healthz", healthz, name="healthz"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include("accounts.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("api.urls")),
    path("wellbeing/", include("wellbeing.urls.surveys")),
    path("wellbeing/", include("wellbeing.urls.exposure")),
    path("lead/", include("wellbeing.urls.lead")),
    path("", include("workspace.urls")),
    path("", include("review.urls")),
    path("", include("audit.urls")),
    path("", include("api.lead_urls")),
]


def handler404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """JSON for API clients, whose URLs may not match any route at all; the usual page for people."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=404)
    return page_not_found(request, exception)
