"""A lead's API tokens page."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from api.forms import ApiTokenForm
from api.selectors import api_tokens_of
from api.services import api_token_create, api_token_revoke
from core.roles import LEAD, role_required, signed_in_user


@never_cache
@role_required(LEAD)
@require_http_methods(["GET", "POST"])
def lead_tokens(request: HttpRequest) -> HttpResponse:
    """A lead's API tokens. A new token is shown once, in the response to the POST that made it."""
    user = signed_in_user(request.user)
    form = ApiTokenForm(request.POST or None)
    created = None
    if request.method == "POST" and form.is_valid():
        days = form.cleaned_data["expires_in_days"]
        token, raw = api_token_create(
            user=user,
            name=form.cleaned_data["name"],
            scopes=form.cleaned_data["scopes"],
            expires_at=timezone.now() + timedelta(days=days) if days else None,
        )
        created = {"token": token, "raw": raw}
        form = ApiTokenForm()
    context = {"form": form, "created": created, "tokens": api_tokens_of(user=user), "now": timezone.now()}
    status = 400 if request.method == "POST" and created is None else 200
    return render(request, "api/lead_tokens.html", context, status=status)


@role_required(LEAD)
@require_POST
def lead_token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    if api_token_revoke(user=signed_in_user(request.user), token_id=token_id):
        messages.success(request, "Token revoked: it stops working at once.")
    else:
        messages.error(request, "No such token of yours, or it was revoked already.")
    return redirect("api_tokens:lead_tokens")
