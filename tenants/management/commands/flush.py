"""``flush`` through the owner's connection: the application's role may not empty the
audit log (no TRUNCATE), which the test runner's flush between tests must do."""

from django.core.management.commands.flush import Command as DjangoFlush
from django.db import DEFAULT_DB_ALIAS

from tenants.db_roles import application_role


class Command(DjangoFlush):
    def handle(self, **options):
        if options["database"] == DEFAULT_DB_ALIAS and application_role("owner"):
            options["database"] = "owner"
        return super().handle(**options)
