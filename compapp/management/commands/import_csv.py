import os

from django.core.management.base import BaseCommand, CommandError

from compapp.imports import KINDS, import_csv


class Command(BaseCommand):
    help = (
        "Import one CSV file of a kind of the data contract, all or nothing. Prints a "
        "summary, or every bad row as 'line N: column: reason' and exits with status 1."
    )

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=sorted(KINDS))
        parser.add_argument("file")
        parser.add_argument(
            "--dry-run", action="store_true", help="check the file and count, write nothing"
        )

    def handle(self, *args, kind, file, dry_run, **options):
        if not os.path.isfile(file):
            raise CommandError(f"{file}: no such file")

        def progress(rows):
            self.stderr.write(f"{rows:,} rows checked")

        result = import_csv(kind, file, dry_run=dry_run, progress=progress)
        if result.errors:
            for error in result.errors:
                self.stdout.write(error)
            raise CommandError(f"{len(result.errors)} problem(s) in {file}: nothing was imported")
        self.stdout.write(result.summary())
