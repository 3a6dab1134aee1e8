"""Strata for study sampling: parsing the command-line spec and the errors a lead sees."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from transcripts.models import ModelSize, ModelType

_BOOLEANS = {"true": True, "false": False, "1": True, "0": False, "yes": True, "no": False}


class StudyInvalid(ValueError):
    """The study cannot be created as asked; the message says why.

    errors, when given, holds one message per form field (None for the plan as a whole).
    """

    def __init__(self, message: str = "", *, errors: dict[str | None, str] | None = None) -> None:
        self.errors: dict[str | None, str] = errors or {None: message}
        super().__init__(message or "; ".join(self.errors.values()))


class StratumTooSmall(StudyInvalid):
    def __init__(self, stratum: Stratum, *, available: int) -> None:
        self.stratum = stratum
        self.available = available
        super().__init__(
            f"stratum '{stratum.label}' asks for {stratum.size} transcripts but only {available} are available"
        )


@dataclass(frozen=True)
class Stratum:
    filters: dict[str, Any]
    size: int

    @property
    def label(self) -> str:
        if not self.filters:
            return "all"
        return ",".join(f"{key}={_format(value)}" for key, value in sorted(self.filters.items()))


def _format(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _parse_choice(key: str, value: str, allowed: list[str]) -> str:
    if value not in allowed:
        raise StudyInvalid(f"{key}={value!r} is not one of: {', '.join(allowed)}")
    return value


def _parse_bool(key: str, value: str) -> bool:
    try:
        return _BOOLEANS[value.lower()]
    except KeyError:
        raise StudyInvalid(f"{key}={value!r} is not true or false") from None


def _parse_rating(key: str, value: str) -> int:
    if value not in {"0", "1", "2", "3", "4"}:
        raise StudyInvalid(f"{key}={value!r} is not a rating 0-4")
    return int(value)


_FIELDS = {
    "model_type": lambda key, value: _parse_choice(key, value, ModelType.values),
    "num_params": lambda key, value: _parse_choice(key, value, ModelSize.values),
    "is_upworker": _parse_bool,
    "rating": _parse_rating,
}


def parse_stratum(spec: str) -> Stratum:
    """Parse 'model_type=context distillation,num_params=52B:500' (or 'all:100')."""
    filter_part, colon, size_part = spec.rpartition(":")
    if not colon:
        raise StudyInvalid(f"stratum {spec!r} has no ':SIZE' at the end, e.g. 'model_type=rlhf,num_params=52B:500'")
    try:
        size = int(size_part)
    except ValueError:
        raise StudyInvalid(f"stratum {spec!r}: size {size_part!r} is not a whole number") from None
    if size < 1:
        raise StudyInvalid(f"stratum {spec!r}: size must be at least 1")
    filters: dict[str, Any] = {}
    if filter_part.strip().lower() not in {"", "all"}:
        for pair in filter_part.split(","):
            key, equals, value = pair.partition("=")
            key, value = key.strip(), value.strip()
            if not equals or key not in _FIELDS:
                raise StudyInvalid(
                    f"stratum {spec!r}: {pair.strip()!r} is not FIELD=VALUE with FIELD one of {', '.join(_FIELDS)}"
                )
            if key in filters:
                raise StudyInvalid(f"stratum {spec!r}: {key} is given twice")
            filters[key] = _FIELDS[key](key, value)
    return Stratum(filters=filters, size=size)
