from django.urls import path

from review import views

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
]
