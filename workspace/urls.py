from django.urls import path

from workspace.views import adjudication, edits, gold, lead, reviewer

app_name = "workspace"

urlpatterns = [
    path("review/", reviewer.queue, name="queue"),
    path("review/studies/<id:study_id>/next", reviewer.next_item, name="next"),
    path("review/studies/<id:study_id>/done", reviewer.done, name="done"),
    path("review/slots/<id:slot_id>/", reviewer.preview, name="preview"),
    path("review/slots/<id:slot_id>/skip", reviewer.skip, name="skip"),
    path("review/slots/<id:slot_id>/review", reviewer.review, name="review"),
    path("review/undo", edits.undo, name="undo"),
    path(
        "review/calibration/<id:review_id>/",
        reviewer.calibration_feedback,
        name="calibration_feedback",
    ),
    path("review/reviews/<id:review_id>/edit", edits.review_edit, name="review_edit"),
    path("lead/studies/<id:study_id>/", lead.lead_dashboard, name="lead_dashboard"),
    path("lead/studies/<id:study_id>/agreement/refresh", lead.lead_agreement_refresh, name="lead_refresh"),
    path("lead/studies/<id:study_id>/tables/<slug:name>.csv", lead.lead_table_csv, name="lead_table_csv"),
    path("lead/studies/<id:study_id>/items/<id:item_id>/", lead.lead_item_detail, name="lead_item"),
    path("lead/studies/<id:study_id>/reviewers/", lead.lead_reviewers, name="lead_reviewers"),
    path("lead/studies/<id:study_id>/gold/", gold.lead_gold, name="lead_gold"),
    path("lead/studies/<id:study_id>/gold/settings", gold.lead_gold_settings, name="lead_gold_settings"),
    path("lead/studies/<id:study_id>/items/<id:item_id>/gold", gold.lead_gold_mark, name="lead_gold_mark"),
    path(
        "lead/studies/<id:study_id>/items/<id:item_id>/gold/remove",
        gold.lead_gold_unmark,
        name="lead_gold_unmark",
    ),
    path(
        "lead/studies/<id:study_id>/adjudication/rule",
        adjudication.lead_adjudication_rule,
        name="lead_adjudication_rule",
    ),
    path(
        "lead/studies/<id:study_id>/adjudication/adjudicators",
        adjudication.lead_adjudicator_add,
        name="lead_adjudicator_add",
    ),
    path(
        "lead/studies/<id:study_id>/adjudication/adjudicators/<id:user_id>/remove",
        adjudication.lead_adjudicator_remove,
        name="lead_adjudicator_remove",
    ),
    path("adjudication/studies/<id:study_id>/", adjudication.queue, name="adjudication_queue"),
    path("adjudication/studies/<id:study_id>/items/<id:item_id>/", adjudication.item, name="adjudication_item"),
    path("lead/reviewers/", lead.lead_reviewers_overall, name="lead_reviewers_overall"),
]
