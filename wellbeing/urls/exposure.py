from __future__ import annotations

from django.urls import URLPattern, path

from wellbeing.views import exposure as views

app_name = "wellbeing_exposure"

urlpatterns: list[URLPattern] = [
    path("break/", views.break_screen, name="break"),
    path("pause/", views.pause, name="pause"),
    path("paused/", views.paused, name="paused"),
    path("preferences/", views.preferences, name="preferences"),
]
