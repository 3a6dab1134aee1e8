"""Accounts and role groups in the admin, changed through the audited account services."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, User
from django.db.models import ProtectedError, QuerySet
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_post_parameters

from accounts.services import AUDITED_FIELDS, user_create, user_delete, user_password_set, user_update
from core.admin import PersonalRowsHiddenOnDelete, ViewOnly
from core.roles import signed_in_user

# The stubs make UserAdmin generic in its user model; at run time Django's class takes no parameter.
if TYPE_CHECKING:
    _UserAdmin = UserAdmin[User]
else:
    _UserAdmin = UserAdmin


# --- accounts: operators only; every change goes through review.accounts and is audited ---------

admin.site.unregister(User)
admin.site.unregister(Group)


@admin.register(User)
class TriadUserAdmin(PersonalRowsHiddenOnDelete, _UserAdmin):
    """Django's user pages, with every write routed through review.accounts so that password
    resets, roles (groups), activation, staff and superuser flags are in the audit log with
    their values before and after. The delete page does not list wellbeing rows."""

    # Set by Django as things happen; save_model would not save an edit of them anyway.
    readonly_fields = ("last_login", "date_joined")

    def save_model(self, request: HttpRequest, obj: User, form: ModelForm, change: bool) -> None:
        data = form.cleaned_data
        if not change:
            password = data["password1"] if data.get("set_usable_password", True) else None
            created = user_create(username=data["username"], password=password, actor=signed_in_user(request.user))
            obj.pk, obj.password, obj._state.adding = created.pk, created.password, False
            return
        fields = {name: data[name] for name in AUDITED_FIELDS if name in data}
        roles = [group.name for group in data["groups"]] if "groups" in data else None
        permissions = data.get("user_permissions")
        user_update(user=obj, fields=fields, roles=roles, permissions=permissions, actor=signed_in_user(request.user))

    def save_related(self, request: HttpRequest, form: ModelForm, formsets: Any, change: bool) -> None:
        # Groups and permissions were saved by save_model through user_update; the form's
        # save_m2m would write them again unrecorded.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    @method_decorator(sensitive_post_parameters())
    def user_change_password(self, request: HttpRequest, id: str, form_url: str = "") -> HttpResponse:
        """A valid new password (or "disable password login") is set through user_password_set;
        everything else, the form and its errors, is Django's own view."""
        user = self.get_object(request, unquote(id))
        if request.method == "POST" and user is not None and self.has_change_permission(request, user):
            form = self.change_password_form(user, request.POST)
            usable = form.is_valid() and form.cleaned_data["set_usable_password"]
            if form.is_valid() and (usable or "unset-password" in request.POST):
                password = form.cleaned_data["password1"] if usable else None
                user_password_set(user=user, password=password, actor=signed_in_user(request.user))
                self.log_change(request, user, self.construct_change_message(request, form, []))
                message = "Password changed successfully." if usable else "Password-based authentication was disabled."
                self.message_user(request, message, messages.SUCCESS)
                update_session_auth_hash(request, user)
                return HttpResponseRedirect(reverse(f"{self.admin_site.name}:auth_user_change", args=[user.pk]))
        return super().user_change_password(request, id, form_url)

    def delete_model(self, request: HttpRequest, obj: User) -> None:
        try:
            user_delete(user=obj, actor=signed_in_user(request.user))
        except ProtectedError:
            self.message_user(
                request,
                f"{obj} has reviews, studies or audit events and is kept: deactivate it instead.",
                messages.ERROR,
            )

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for user in queryset:
            self.delete_model(request, user)


@admin.register(Group)
class RoleGroupAdmin(ViewOnly, GroupAdmin):
    """The groups are Triad's roles, which the code knows by name: they are shown, not changed.
    Give someone a role on their user page."""
