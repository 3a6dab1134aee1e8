"""Periodic wellbeing jobs for Celery beat. Each is idempotent, so running them hourly is safe.

Neither keeps a schedule of its own: who is due is worked out from the invitations and
answers in the database at each run, so runs missed while Redis or the workers were down
are made up by the next one, and a run sent twice invites nobody twice.
"""

from __future__ import annotations

from celery import shared_task

from wellbeing.services.publication import publications_publish_closed
from wellbeing.services.surveys import invitations_create, invitations_remind


@shared_task(name="wellbeing.invite_periodic")
def invite_periodic() -> int:
    """Invite reviewers whose periodic questionnaire (WHO-5) is due. A second run the same day invites nobody."""
    return invitations_create()


@shared_task(name="wellbeing.remind_invitations")
def remind_invitations() -> int:
    """Bring back invitations snoozed (or left waiting) for two days. Each snooze is reminded once."""
    return invitations_remind()


@shared_task(name="wellbeing.publish_closed_months")
def publish_closed_months() -> int:
    """Store the figures of months that have closed, so lead pages only read them. A second run publishes nothing."""
    return publications_publish_closed()
