import os
import sys

from django.core.management.base import BaseCommand, CommandError

from compapp.imports import DATABASE_LOST, KINDS, import_csv

LOST_MESSAGE = (
    "import_csv: the database connection was lost during the import; nothing was imported. "
    "Run the same command again."
)


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

        try:
            result = import_csv(kind, file, dry_run=dry_run, progress=progress)
        except DATABASE_LOST:
            if options["traceback"] or options["verbosity"] >= 3:
                raise
            # The import is one transaction: a connection lost before its end wrote nothing.
            self.stderr.write(LOST_MESSAGE)
            sys.exit(1)
        if result.errors:
            for error in result.errors:
                self.stdout.write(error)
            raise CommandError(f"{len(result.errors)} problem(s) in {file}: nothing was imported")
        self.stdout.write(result.summary())
