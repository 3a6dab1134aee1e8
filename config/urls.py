from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from review import views as review_views

urlpatterns = [
    path("", review_views.home, name="home"),
    path("healthz", review_views.healthz, name="healthz"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("", include("review.urls")),
]
