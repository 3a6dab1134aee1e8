"""Periodic wellbeing jobs for Celery beat. Both are idempotent, so running them hourly is safe."""

from __future__ import annotations

from celery import shared_task

from wellbeing.services.surveys import invitations_create, invitations_remind


@shared_task(name="wellbeing.invite_periodic")
def invite_periodic() -> int:
    """Invite reviewers whose periodic questionnaire (WHO-5) is due. A second run the same day invites nobody."""
    return invitations_create()


@shared_task(name="wellbeing.remind_invitations")
def remind_invitations() -> int:
    """Bring back invitations snoozed (or left waiting) for two days. Each snooze is reminded once."""
    return invitations_remind()
