from django.urls import path

from audit import views

app_name = "audit"

urlpatterns = [
    path("lead/audit/", views.lead_audit, name="lead_audit"),
    path("lead/audit/events.csv", views.lead_audit_csv, name="lead_audit_csv"),
]
