"""What the review services refuse, each with a message a reviewer or lead can act on."""

from __future__ import annotations

from typing import Any


class ReviewError(Exception):
    pass


class StudyStateError(ReviewError, ValueError):
    """A study cannot move to the asked status from the one it is in."""


class StudyNotActive(ReviewError):
    def __init__(self, study: Any) -> None:
        self.study = study
        super().__init__(f"{study.name!r} is {study.get_status_display().lower()}: nothing can be claimed in it now")


class NotAMember(ReviewError):
    pass


class RedTeamIdTaken(ReviewError, ValueError):
    """Another account is linked to this red-team member id (each id is one person's)."""


class LeadChangeRefused(ReviewError, ValueError):
    """A study's leads cannot change so: the account is not a lead, or it is the study's last."""


class SlotNotYours(ReviewError):
    """The slot does not exist or was never this reviewer's: shown as 404."""


class ReviewNotSaved(ReviewError):
    """The submit was refused and nothing was saved; `reason` says why, in words for the reviewer.

    The reviewer's page shows their answers back with the reason, so nothing they wrote is lost.
    """

    reason = "the answers could not be saved"

    def __init__(self, slot_id: int, reason: str | None = None) -> None:
        self.slot_id = slot_id
        if reason is not None:
            self.reason = reason
        super().__init__(f"slot {slot_id}: {self.reason}")


class LeaseLost(ReviewNotSaved):
    """The reviewer no longer holds the slot's lease, and cannot take it back; nothing was saved."""

    reason = "your hold on this conversation ran out and it cannot be taken back now"


class InvalidAnswers(ReviewError):
    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{field}: {message}" for field, message in errors.items()))


class StudyHasReviews(ReviewError):
    """A study with reviews or skips is kept: it can be archived, never deleted."""

    def __init__(self, study: Any, *, reviews: int, skips: int) -> None:
        self.study = study
        super().__init__(
            f"study {study.name!r} has {reviews} review(s) and {skips} skip(s): archive it instead; "
            "a study with reviews is never deleted"
        )


class ReviewNotEditable(ReviewError):
    """The reviewer's review can no longer be changed; `reason` says why, in words for the reviewer."""

    reason = "this review can no longer be changed"

    def __init__(self, review_id: int, reason: str | None = None) -> None:
        self.review_id = review_id
        if reason is not None:
            self.reason = reason
        super().__init__(f"review {review_id}: {self.reason}")


class ReviewNotYours(ReviewNotEditable):
    """The review does not exist or is someone else's: shown as 404, like a slot that is not yours."""

    reason = "this is not your review"
