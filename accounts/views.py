"""The pages a person uses to get into their account: accepting an invitation, and choosing
their own password after signing in with a one-time one."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from accounts.forms import InvitationAcceptForm, PasswordChangeForm
from accounts.selectors import invitation_usable, password_change_required
from accounts.services import (
    AccountInvalid,
    InvitationUnusable,
    invitation_accept,
    user_password_change,
)
from core.roles import signed_in_user

SIGN_IN_BACKEND = "core.auth.UserWithRolesModelBackend"
# Used, revoked and expired links all answer this: the link is gone and will not come back.
GONE = 410


@never_cache
@sensitive_post_parameters("password")
@require_http_methods(["GET", "POST"])
def invitation(request: HttpRequest, token: str) -> HttpResponse:
    """Choose a username and password and join; the link works once, until it expires."""
    if invitation_usable(raw=token) is None:
        return render(request, "accounts/invitation_gone.html", status=GONE)
    form = InvitationAcceptForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = invitation_accept(raw=token, **form.cleaned_data)
        except InvitationUnusable:
            return render(request, "accounts/invitation_gone.html", status=GONE)
        except AccountInvalid as exc:
            for field, error in exc.errors.items():
                form.add_error(field if field in form.fields else None, error)
        else:
            # The password backend that signing in uses (the lockout backend only refuses).
            login(request, user, backend=SIGN_IN_BACKEND)
            messages.success(request, f"Welcome, {user.get_username()}: your account is ready.")
            return redirect("home")
    status = 400 if request.method == "POST" else 200
    return render(request, "accounts/invitation.html", {"form": form}, status=status)


@never_cache
@login_required
@sensitive_post_parameters("password", "again")
@require_http_methods(["GET", "POST"])
def password_change(request: HttpRequest) -> HttpResponse:
    """Choose a new password; after a one-time password, nothing else opens until this is done."""
    user = signed_in_user(request.user)
    required = password_change_required(user=user)
    form = PasswordChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user_password_change(user=user, password=form.cleaned_data["password"])
        except AccountInvalid as exc:
            form.add_error("password", exc.errors["password"])
        else:
            update_session_auth_hash(request, user)  # this session stays signed in; others end
            messages.success(request, "Password changed.")
            return redirect("home")
    status = 400 if request.method == "POST" else 200
    return render(request, "accounts/password_change.html", {"form": form, "required": required}, status=status)
