from django.urls import path

from review import views

app_name = "review"

urlpatterns = [
    path("review/", views.queue, name="queue"),
    path("review/studies/<int:study_id>/next", views.next_item, name="next"),
    path("review/studies/<int:study_id>/done", views.done, name="done"),
    path("review/slots/<int:slot_id>/", views.preview, name="preview"),
    path("review/slots/<int:slot_id>/skip", views.skip, name="skip"),
    path("review/slots/<int:slot_id>/review", views.review, name="review"),
    path("lead/studies/", views.lead_study_list, name="lead_studies"),
    path("lead/studies/<int:study_id>/status", views.lead_study_status, name="lead_status"),
    path("lead/studies/<int:study_id>/members", views.lead_study_members, name="lead_members"),
]
