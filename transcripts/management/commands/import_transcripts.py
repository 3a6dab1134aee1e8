from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from audit.services import audit_cli_actor
from transcripts.importing import ImportFileError, inspect_source
from transcripts.services import ImportRejected, transcript_import

# Enough to see the pattern of a bad file without scrolling past thousands of lines.
MAX_ERRORS_SHOWN = 200


class Command(BaseCommand):
    help = (
        "Import red-team transcripts in the released format: one JSON array or JSON Lines, gzipped or not. "
        "All or nothing unless --skip-invalid."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="+", type=Path, metavar="PATH")
        parser.add_argument(
            "--skip-invalid",
            action="store_true",
            help="Import the valid records and keep the rejects on the import batch instead of aborting.",
        )
        parser.add_argument("--user", help="Username to record as the importer.")
        parser.add_argument("--no-progress", action="store_true", help="Never show a progress bar.")
        parser.add_argument(
            "--all-errors", action="store_true", help=f"List every error, not only the first {MAX_ERRORS_SHOWN}."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        user = None
        if options["user"]:
            try:
                user = get_user_model().objects.get(username=options["user"])
            except get_user_model().DoesNotExist:
                raise CommandError(f"--user: no user named {options['user']!r}") from None
        show_progress = not options["no_progress"] and sys.stderr.isatty()
        failed = 0
        for path in options["paths"]:
            failed += not self._import_one(path, user, options, show_progress)
        if failed:
            raise CommandError(f"{failed} of {len(options['paths'])} file(s) were not imported")

    def _import_one(self, path: Path, user: User | None, options: dict[str, Any], show_progress: bool) -> bool:
        try:
            size = inspect_source(path).size
        except ImportFileError as exc:
            self.stderr.write(self.style.ERROR(str(exc)))
            return False
        bar = tqdm(
            total=size,
            unit="B",
            unit_scale=True,
            desc=path.name,
            disable=not show_progress,
            file=sys.stderr,
            leave=False,
        )

        def progress(done: int) -> None:
            bar.update(done - bar.n)

        try:
            result = transcript_import(
                path=path,
                created_by=user,
                actor=audit_cli_actor(user),
                skip_invalid=options["skip_invalid"],
                progress=progress,
            )
        except ImportRejected as exc:
            bar.close()
            self._list_errors(exc.file_name, exc.errors, options)
            records = len({error.record for error in exc.errors})
            self.stderr.write(
                self.style.ERROR(
                    f"{path}: {records} of {exc.records_seen} records are invalid; nothing was imported. "
                    "Fix them, or rerun with --skip-invalid to import the valid records."
                )
            )
            return False
        except ImportFileError as exc:
            bar.close()
            self.stderr.write(self.style.ERROR(f"{exc}; nothing was imported."))
            return False
        bar.close()
        for warning in result.warnings[:MAX_ERRORS_SHOWN]:
            self.stderr.write(self.style.WARNING(warning.describe(str(path))))
        if result.rejected:
            self._list_errors(str(path), result.rejected, options)
        if result.batch is None:
            earlier = ", ".join(f"#{pk}" for pk in result.identical_batch_ids)
            note = f"; the same file was imported before as batch {earlier}" if earlier else ""
            self.stdout.write(
                self.style.SUCCESS(
                    f"{path}: nothing new: all {result.duplicates} records are already in the database{note}. "
                    "Nothing was written."
                )
            )
            return True
        self.stdout.write(
            self.style.SUCCESS(
                f"{path}: import batch #{result.batch.pk}: {result.created} created, {result.duplicates} duplicates, "
                f"{result.rejected_records} rejected in {result.seconds:.2f}s"
            )
        )
        return True

    def _list_errors(self, file_name: str, errors: list[Any], options: dict[str, Any]) -> None:
        shown = errors if options["all_errors"] else errors[:MAX_ERRORS_SHOWN]
        for error in shown:
            self.stderr.write(error.describe(file_name))
        if len(shown) < len(errors):
            self.stderr.write(f"... and {len(errors) - len(shown)} more errors (--all-errors lists them all)")
