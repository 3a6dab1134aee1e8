from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from review.models import Study, StudyStatus
from review.sampling import parse_stratum
from review.services import account_ensure, reviewer_profile_set, study_create, study_members_set, study_start

DEMO_FILE = Path(settings.BASE_DIR) / "demo" / "red_team_attempts_demo.json"
DEMO_STUDY = "Demo: prompted vs RLHF 52B"
DEMO_AUTHOR_REVIEWER = 3  # a red_team_member_id in the demo data
# Demo credentials are printed on purpose: they exist only in a local demo database.
DEMO_ACCOUNTS = [
    ("lead", "triad-lead-demo", ("lead",), True),
    ("reviewer1", "triad-review-demo1", ("reviewer",), False),
    ("reviewer2", "triad-review-demo2", ("reviewer",), False),
    ("reviewer3", "triad-review-demo3", ("reviewer",), False),
    ("reviewer4", "triad-review-demo4", ("reviewer",), False),
]


class Command(BaseCommand):
    help = "Load the bundled demo transcripts, create demo accounts and a demo study. Safe to rerun."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--file", type=Path, default=DEMO_FILE)

    def handle(self, *args: Any, **options: Any) -> None:
        accounts = [
            (account_ensure(username=name, password=password, roles=roles, admin=admin), password)
            for name, password, roles, admin in DEMO_ACCOUNTS
        ]
        call_command("import_transcripts", str(options["file"]), user="lead", stdout=self.stdout, stderr=self.stderr)
        study = Study.objects.filter(name=DEMO_STUDY).first()
        if study is None:
            study = study_create(
                name=DEMO_STUDY,
                description="The paper's design in miniature: 10 prompted (context distillation) and 10 RLHF "
                "transcripts from the 52B models, 3 reviewers each.",
                strata=[
                    parse_stratum("model_type=context distillation,num_params=52B:10"),
                    parse_stratum("model_type=rlhf,num_params=52B:10"),
                ],
                seed=7,
                created_by=accounts[0][0],
            )
        reviewers = [user for user, _ in accounts[1:]]
        # reviewer4 also wrote some of the demo attacks: they are never offered those.
        reviewer_profile_set(user=reviewers[3], red_team_member_id=DEMO_AUTHOR_REVIEWER)
        study_members_set(study=study, reviewers=reviewers)
        if study.status == StudyStatus.DRAFT:
            study_start(study=study)
        self.stdout.write(self.style.SUCCESS(f"Demo study: {DEMO_STUDY!r}, started, with reviewer1-4 as its reviewers"))
        self.stdout.write("Demo accounts (username / password):")
        for user, password in accounts:
            roles = ", ".join(user.groups.values_list("name", flat=True))
            extra = " + Django admin" if user.is_staff else ""
            self.stdout.write(f"  {user.get_username():<10} / {password:<20} {roles}{extra}")
