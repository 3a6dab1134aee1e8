from __future__ import annotations

from django.urls import URLPattern, path

from wellbeing.views import lead as views
from wellbeing.views import study

app_name = "wellbeing_lead"

urlpatterns: list[URLPattern] = [
    path("wellbeing/", views.dashboard, name="dashboard"),
    path("wellbeing/tables/<slug:name>.csv", views.table_csv, name="table_csv"),
    path("studies/<id:study_id>/wellbeing", study.lead_study_wellbeing, name="study_settings"),
]
