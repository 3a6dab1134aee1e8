"""What the wellbeing safeguards refuse, each with a message the reviewer or lead can act on."""

from __future__ import annotations

from datetime import date


class WellbeingError(Exception):
    pass


class ExposureCapReached(WellbeingError):
    """The reviewer has had today's limit of exposure: nothing more is claimed for them today."""

    def __init__(self, *, seconds: int, cap_minutes: int) -> None:
        self.seconds = seconds
        self.cap_minutes = cap_minutes
        super().__init__(f"today's limit of {cap_minutes} minutes of reviewing is reached")


class PausedForToday(WellbeingError):
    """The reviewer pressed 'Pause for today': no claims until the next day."""

    def __init__(self, *, day: date) -> None:
        self.day = day
        super().__init__(f"reviewing is paused for {day.isoformat()}")


class BreakDue(WellbeingError):
    """Continuous exposure reached the break interval: offer a break before the next item."""


class WellbeingInvalid(WellbeingError, ValueError):
    """Settings that cannot be saved; errors maps each field to what is wrong with it."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{field}: {message}" for field, message in errors.items()))


class PeriodInvalid(WellbeingError, ValueError):
    """A query parameter that names no published month: what was given, and what is expected."""

    def __init__(self, *, parameter: str, value: str, message: str, not_yet: bool = False) -> None:
        self.parameter = parameter
        self.value = value
        # A well-formed month that is not over yet is a page that does not exist yet (404), not bad input.
        self.not_yet = not_yet
        super().__init__(f"{parameter}={value!r}: expected {message}")
