"""Publishing a closed month's wellbeing figures: computed once, stored, and never recomputed.

Why once (wellbeing/PRIVACY.md): two versions of a month would differ by whoever answered late,
joined or left in between, and two noise draws of one figure could be averaged.
"""

from __future__ import annotations

from django.utils import timezone

from wellbeing.models import Publication
from wellbeing.selectors.aggregates import Period, latest_complete_period, month_figures, trend_periods


def publication_ensure(*, period: Period) -> Publication:
    """The stored figures of a closed month, publishing them now if nobody has looked before.

    Two requests racing on a month both compute it, but the unique period lets only one row in,
    and both return that one: the loser's noise never leaves this function.
    """
    if not period.complete(today=timezone.localdate()):
        raise ValueError(f"{period.key} is not over yet: a month is published once its last week is over")
    # From the primary even inside replica_reads(): a replica a few seconds behind would miss a
    # month just published and publish it again (the unique period would then hand back the first).
    found = Publication.objects.using("default").filter(period=period.key).first()
    if found is not None:
        return found
    figures = month_figures(period=period)
    publication, _created = Publication.objects.using("default").get_or_create(
        period=period.key, defaults={"figures": figures, "published_at": timezone.now()}
    )
    return publication


def publications_publish_closed() -> int:
    """Publish every closed month the lead page can show that is not stored yet; returns how many.

    Celery beat runs this hourly, so a lead's page normally finds each closed month already
    stored and its GET only reads. The page still publishes a month nobody has published (a
    machine without beat, or the first hour after a close): the figures are the same whoever
    publishes them first, since they depend only on answers stamped inside the month.
    """
    months = trend_periods(period=latest_complete_period())
    stored = set(
        Publication.objects.using("default").filter(period__in=[m.key for m in months]).values_list("period", flat=True)
    )
    missing = [month for month in months if month.key not in stored]
    for month in missing:
        publication_ensure(period=month)
    return len(missing)
