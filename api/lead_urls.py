"""The lead's token pages, beside the other lead pages rather than under /api/v1/."""

from django.urls import path

from api import lead_views

app_name = "api_tokens"

urlpatterns = [
    path("lead/tokens/", lead_views.lead_tokens, name="lead_tokens"),
    path("lead/tokens/<id:token_id>/revoke", lead_views.lead_token_revoke, name="lead_token_revoke"),
]
