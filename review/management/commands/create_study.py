from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from audit.services import audit_cli_actor
from review.sampling import StudyInvalid, parse_stratum
from review.services.studies import study_create


class Command(BaseCommand):
    help = "Create a study from a seeded random sample of each stratum of the imported transcripts."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name")
        parser.add_argument(
            "--stratum",
            action="append",
            required=True,
            metavar="FIELD=VALUE[,FIELD=VALUE]:SIZE",
            help="e.g. 'model_type=context distillation,num_params=52B:500'. Fields: model_type, num_params, "
            "is_upworker, rating. 'all:SIZE' samples from everything. Repeat for more strata.",
        )
        parser.add_argument(
            "--seed", type=int, required=True, help="The same seed on the same data gives the same items."
        )
        parser.add_argument("--reviewers-per-item", type=int, default=3)
        parser.add_argument("--lease-minutes", type=int, default=30)
        parser.add_argument("--description", default="")
        parser.add_argument("--user", help="Username to record as the creator.")

    def handle(self, *args: Any, **options: Any) -> None:
        user = None
        if options["user"]:
            user = get_user_model().objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(f"--user: no user named {options['user']!r}")
        try:
            strata = [parse_stratum(spec) for spec in options["stratum"]]
            study = study_create(
                name=options["name"],
                description=options["description"],
                strata=strata,
                seed=options["seed"],
                reviewers_per_item=options["reviewers_per_item"],
                lease_minutes=options["lease_minutes"],
                created_by=user,
                actor=audit_cli_actor(user),
            )
        except StudyInvalid as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(self.style.SUCCESS(f"Study #{study.pk} {study.name!r}: {study.items.count()} items"))
        for summary, stratum in zip(study.strata, strata, strict=True):
            self.stdout.write(f"  {stratum.label}: {summary['size']} of {summary['available']} available")
