from django.urls import path

from review import views

app_name = "review"

urlpatterns = [
    path("review/", views.queue, name="queue"),
    path("review/studies/<id:study_id>/next", views.next_item, name="next"),
    path("review/studies/<id:study_id>/done", views.done, name="done"),
    path("review/slots/<id:slot_id>/", views.preview, name="preview"),
    path("review/slots/<id:slot_id>/skip", views.skip, name="skip"),
    path("review/slots/<id:slot_id>/review", views.review, name="review"),
    path("lead/studies/", views.lead_study_list, name="lead_studies"),
    path("lead/studies/new", views.lead_study_create, name="lead_study_create"),
    path("lead/studies/<id:study_id>/", views.lead_dashboard, name="lead_dashboard"),
    path("lead/studies/<id:study_id>/agreement/refresh", views.lead_agreement_refresh, name="lead_refresh"),
    path("lead/studies/<id:study_id>/tables/<slug:name>.csv", views.lead_table_csv, name="lead_table_csv"),
    path("lead/studies/<id:study_id>/items/<id:item_id>/", views.lead_item_detail, name="lead_item"),
    path("lead/studies/<id:study_id>/notes-sharing", views.lead_notes_sharing, name="lead_notes_sharing"),
    path("lead/studies/<id:study_id>/wellbeing", views.lead_study_wellbeing, name="lead_study_wellbeing"),
    path("lead/tokens/", views.lead_tokens, name="lead_tokens"),
    path("lead/tokens/<id:token_id>/revoke", views.lead_token_revoke, name="lead_token_revoke"),
    path("lead/studies/<id:study_id>/status", views.lead_study_status, name="lead_status"),
    path("lead/studies/<id:study_id>/members", views.lead_study_members, name="lead_members"),
    path("lead/audit/", views.lead_audit, name="lead_audit"),
    path("lead/audit/events.csv", views.lead_audit_csv, name="lead_audit_csv"),
]
