from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from audit.services import audit_cli_actor
from review.errors import LeadChangeRefused
from review.selectors import study_get, study_leads
from review.services.leads import study_lead_add, study_lead_remove


class Command(BaseCommand):
    help = (
        "List, add or remove a study's leads (who alone see it), for operators: a study made without "
        "--user has none until one is added here."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("study", type=int, help="The study's id.")
        parser.add_argument("--add", action="append", default=[], metavar="USERNAME", help="Make this lead one.")
        parser.add_argument("--remove", action="append", default=[], metavar="USERNAME", help="Take this lead off.")

    def handle(self, *args: Any, **options: Any) -> None:
        study = study_get(study_id=options["study"])
        if study is None:
            raise CommandError(f"no study #{options['study']}")
        actor = audit_cli_actor()
        try:
            for username in options["add"]:
                study_lead_add(study=study, lead=self._user(username), actor=actor)
            for username in options["remove"]:
                study_lead_remove(study=study, lead=self._user(username), actor=actor)
        except LeadChangeRefused as exc:
            raise CommandError(str(exc)) from None
        names = ", ".join(lead.get_username() for lead in study_leads(study=study)) or "nobody"
        self.stdout.write(f"Study #{study.pk} {study.name!r} is led by {names}")

    def _user(self, username: str) -> Any:
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"no user named {username!r}")
        return user
