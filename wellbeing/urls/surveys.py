from __future__ import annotations

from django.urls import URLPattern, path

from wellbeing.views import surveys as views

app_name = "wellbeing_surveys"

urlpatterns: list[URLPattern] = [
    path("checkin/", views.checkin, name="checkin"),
    path("surveys/<slug:slug>/", views.survey, name="survey"),
    path("responses/<id:response_id>/thanks/", views.thanks, name="thanks"),
    path("invitations/<id:invitation_id>/snooze", views.invitation_snooze_view, name="invitation_snooze"),
    path("support/", views.support, name="support"),
    path("privacy/", views.privacy, name="privacy"),
    path("me/", views.mine, name="mine"),
]
