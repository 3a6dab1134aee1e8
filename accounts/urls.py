from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("accounts/invitations/<str:token>/", views.invitation, name="invitation"),
    path("accounts/password/", views.password_change, name="password_change"),
]
