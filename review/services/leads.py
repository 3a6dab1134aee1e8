"""Who owns a study: its leads (the creator and the co-leads they add)."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction

from audit.models import AuditAction
from audit.services import Actor, audit_record
from core.roles import LEAD, has_role
from review.errors import LeadChangeRefused
from review.models import Study, StudyLead


def study_lead_add(*, study: Study, lead: User, actor: Actor) -> bool:
    """Make the lead one of the study's owners; False when they were already. Recorded.

    Only an account holding the lead role can own a study: a co-lead sees every reviewer's
    work in it, which is not the reviewer role's to see.
    """
    if not has_role(lead, LEAD):
        raise LeadChangeRefused(f"{lead.get_username()} is not a lead")
    with transaction.atomic():
        _, created = StudyLead.objects.get_or_create(study=study, lead=lead)
        if created:
            audit_record(actor=actor, action=AuditAction.STUDY_LEAD_ADDED, target=lead, study=study)
    return created


def study_lead_remove(*, study: Study, lead: User, actor: Actor) -> bool:
    """Take the lead off the study; False when they were not on it. The last lead stays (a
    study nobody owns would be reachable by no lead), which raises LeadChangeRefused."""
    with transaction.atomic():
        # Lock the study's lead rows so two removals at once cannot leave it with none.
        owners = list(StudyLead.objects.select_for_update().filter(study=study).values_list("lead_id", flat=True))
        if lead.pk not in owners:
            return False
        if len(owners) == 1:
            raise LeadChangeRefused("A study keeps at least one lead: add another before removing this one.")
        StudyLead.objects.filter(study=study, lead=lead).delete()
        audit_record(actor=actor, action=AuditAction.STUDY_LEAD_REMOVED, target=lead, study=study)
    return True
