"""What the adjudication services refuse, each with a message the adjudicator or lead can act on."""

from __future__ import annotations


class AdjudicationError(Exception):
    pass


class AlreadyAdjudicated(AdjudicationError):
    """Someone else recorded this item's final label first (shown as 409)."""

    def __init__(self, *, item_id: int, by: str) -> None:
        self.item_id = item_id
        self.by = by
        super().__init__(f"{by} has already adjudicated this item; their final label stands")


class NotInQueue(AdjudicationError):
    """The item is not waiting for adjudication: not complete, not disagreeing, or the rule is off (409)."""


class InvalidAdjudication(AdjudicationError):
    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{field}: {message}" for field, message in errors.items()))
