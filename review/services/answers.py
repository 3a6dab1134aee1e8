"""A review's answers and the one statement of their rules: shared by the submit, the edit, the
review form and a lead's gold reference, and free of the assignment engine so all can import it."""

from __future__ import annotations

from dataclasses import dataclass

from review.errors import InvalidAnswers
from tagging.models import Tag


@dataclass(frozen=True)
class ReviewAnswers:
    rating: int
    tag_ids: tuple[int, ...] = ()
    needs_expertise: bool = False
    # The domain judging it needs, one of the harm tags: the item's expert slot is routed by it.
    expertise_tag_id: int | None = None
    expertise_domain: str = ""  # free-text detail on the domain, optional
    note: str = ""


def review_answers_errors(answers: ReviewAnswers) -> dict[str, str]:
    """What is wrong with the answers, one message per field; empty when they can be stored.

    The one statement of the answer rules: the review form shows these messages on its fields.
    """
    errors = review_answers_form_errors(answers)
    wanted = set(answers.tag_ids) if "tags" not in errors else set()
    domain = answers.expertise_tag_id if answers.needs_expertise and "expertise_tag" not in errors else None
    if domain is not None:
        wanted.add(domain)
    if wanted:
        known = set(Tag.objects.filter(pk__in=wanted).values_list("pk", flat=True))
        if not known.issuperset(answers.tag_ids) and "tags" not in errors:
            errors["tags"] = "Unknown topic."
        if domain is not None and domain not in known:
            errors["expertise_tag"] = "Unknown domain: choose one of the harm topics."
    return errors


def review_answers_form_errors(answers: ReviewAnswers) -> dict[str, str]:
    """The answer rules a form can check without the database: all but "the topics exist",
    which the service checks once when it stores them (and the form then shows its message)."""
    errors: dict[str, str] = {}
    if not 0 <= answers.rating <= 4:
        errors["rating"] = "Choose a rating from 0 to 4."
    if len(answers.tag_ids) > 2:
        errors["tags"] = "Choose at most 2 topics."
    elif len(set(answers.tag_ids)) != len(answers.tag_ids):
        errors["tags"] = "A topic was chosen twice."
    if answers.needs_expertise and answers.expertise_tag_id is None:
        errors["expertise_tag"] = "Choose the domain judging this needs."
    return errors


def review_answers_check(answers: ReviewAnswers) -> None:
    """Raise InvalidAnswers, with a message per field, unless the answers can be stored."""
    errors = review_answers_errors(answers)
    if errors:
        raise InvalidAnswers(errors)
