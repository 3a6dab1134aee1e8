"""The audit log: writing an event, and the log as CSV for a lead's download."""

from __future__ import annotations

import getpass
from typing import Any

from django.contrib.auth.models import User
from django.db.models import Model

from audit.models import AuditEvent

# Who acted: an account, or a name for someone without one, such as "cli:root" for a command.
Actor = User | str | None


def audit_record(
    *,
    actor: Actor,
    action: str,
    target: Model | None = None,
    study: Model | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the audit log.

    Call it inside the transaction of the change it records, so that the change and its
    record commit together or not at all. The target's name is copied, so the record still
    reads after the target is renamed or gone.
    """
    if isinstance(actor, str):
        user, label = None, actor
    elif actor is not None and actor.is_authenticated:
        user, label = actor, actor.get_username()
    else:
        user, label = None, "system"
    return AuditEvent.objects.create(
        actor=user,
        actor_label=label[:150] or "system",
        action=action,
        target_type=(target._meta.model_name or "") if target is not None else "",
        target_id=target.pk if target is not None else None,
        target_label=str(target)[:300] if target is not None else "",
        # By id: the audit app sits below the review app and cannot name its Study type.
        study_id=study.pk if study is not None else None,
        details=details or {},
    )


def audit_cli_actor(user: User | None = None) -> User | str:
    """Who runs a management command: the account it was given, else the operating-system user."""
    if user is not None:
        return user
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no login name and no passwd entry, as in some containers
        return "cli:unknown"
