"""``manage.py check_migration``: the checklist operators run after migrating production.

One line per check, ✅ or ❌ with a short detail, then a summary line; the exit status
is non-zero when a check failed. The checks are in ``projects.legacy_checklist``.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections

from projects.legacy_checklist import run_checks


class Command(BaseCommand):
    help = (
        "Check that the database holds the schema contract after `migrate` "
        "(tables, enum types, indexes, ON DELETE rules, tenant data, vector search). "
        "Exits non-zero if a check fails."
    )
    # The checklist is about the database; it must run even where system checks fail.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument(
            "--database",
            default=DEFAULT_DB_ALIAS,
            help="Database alias to check (default: 'default').",
        )
        parser.add_argument(
            "--expected-chunks",
            type=int,
            default=None,
            metavar="N",
            help="Number of document_chunks rows counted before migrating: the check "
            "fails if the table holds a different number.",
        )

    def handle(self, *args, **options):
        alias = options["database"]
        if alias not in connections:
            raise CommandError(f"Unknown database alias {alias!r}.")
        connection = connections[alias]
        results = run_checks(connection, expected_chunks=options["expected_chunks"])
        for result in results:
            self.stdout.write(result.line())

        failed = [r for r in results if not r.ok]
        name = connection.settings_dict.get("NAME")
        if failed:
            names = ", ".join(dict.fromkeys(r.name for r in failed))
            self.stdout.write(
                f"❌ Checklist FAILED on '{name}': {len(failed)} of {len(results)} checks "
                f"failed ({names})"
            )
            raise CommandError(f"migration checklist failed ({len(failed)} ❌)")
        self.stdout.write(
            f"✅ Checklist passed on '{name}': {len(results)}/{len(results)} checks OK"
        )
