"""Reads that span apps for the reviewer's pages: the review workflow with the reviewer's exposure."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.auth.models import User

from adjudication.selectors import item_adjudications
from review.models import GoldItem, Study
from review.selectors import ITEMS_LEFT_COUNTED, review_items_left
from wellbeing.selectors.exposure import exposure_today


def saved_summary(*, reviewer: User, study: Study, now: datetime | None = None) -> dict[str, Any]:
    """What the "Saved" notice after a submit says: the items left for the reviewer in the study,
    and today's time against their cap."""
    return {
        "items_left": review_items_left(study=study, reviewer=reviewer, now=now),
        "exposure": exposure_today(reviewer=reviewer, study=study, now=now),
    }


def saved_notice_text(*, reviewer: User, study: Study, now: datetime | None = None) -> str:
    summary = saved_summary(reviewer=reviewer, study=study, now=now)
    left, exposure = summary["items_left"], summary["exposure"]
    if left > ITEMS_LEFT_COUNTED:
        items = f"More than {ITEMS_LEFT_COUNTED} conversations"
    else:
        items = "1 conversation" if left == 1 else f"{left} conversations"
    return (
        f"Saved. {items} left for you in {study.name}. "
        f"Today: {exposure['minutes']} of {exposure['cap_minutes']} minutes."
    )


def gold_reference_initial(*, gold: GoldItem | None, item_id: int) -> dict[str, Any]:
    """What the lead's gold form starts from: the item's reference answer if it is gold, else its
    adjudicated final label (the reason as the explanation), else nothing."""
    if gold is not None:
        return {"rating": gold.rating, "tags": gold.tag_ids, "explanation": gold.explanation}
    final = item_adjudications(item_ids=[item_id]).get(item_id)
    if final is None:
        return {}
    return {"rating": final.rating, "tags": final.tag_ids, "explanation": final.reason}
