from django.urls import path

from review import team_views, views

app_name = "review"

urlpatterns = [
    path("lead/studies/", views.lead_study_list, name="lead_studies"),
    path("lead/studies/new", views.lead_study_create, name="lead_study_create"),
    path("lead/studies/<id:study_id>/notes-sharing", views.lead_notes_sharing, name="lead_notes_sharing"),
    path("lead/studies/<id:study_id>/status", views.lead_study_status, name="lead_status"),
    path("lead/studies/<id:study_id>/archive", views.lead_study_archive, name="lead_archive"),
    path("lead/studies/<id:study_id>/start-progress", views.lead_study_start_progress, name="lead_start_progress"),
    path("lead/studies/<id:study_id>/members", views.lead_study_members, name="lead_members"),
    path("lead/studies/<id:study_id>/instructions", views.lead_study_instructions, name="lead_instructions"),
    path("lead/studies/<id:study_id>/leads", team_views.lead_study_leads, name="lead_leads"),
    path("lead/team/", team_views.lead_team, name="lead_team"),
    path("lead/team/invitations", team_views.lead_team_invite, name="lead_team_invite"),
    path(
        "lead/team/invitations/<id:invitation_id>/revoke",
        team_views.lead_team_invitation_revoke,
        name="lead_team_invitation_revoke",
    ),
    path("lead/team/accounts", team_views.lead_team_account, name="lead_team_account"),
    path("lead/team/people/<id:user_id>/", team_views.lead_team_person, name="lead_team_person"),
    path("lead/team/people/<id:user_id>/active", team_views.lead_team_person_active, name="lead_team_person_active"),
]
