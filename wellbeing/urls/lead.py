from __future__ import annotations

from django.urls import URLPattern, path

from wellbeing.views import lead as views

app_name = "wellbeing_lead"

urlpatterns: list[URLPattern] = [
    path("", views.dashboard, name="dashboard"),
    path("tables/<slug:name>.csv", views.table_csv, name="table_csv"),
]
