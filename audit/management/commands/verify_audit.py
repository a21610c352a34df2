"""``manage.py verify_audit [--company ID]``: check the audit trail's hash chain.

Prints the rows checked and, for each company whose chain is broken, the first row that
does not match (the rows after it cannot be trusted either); exit status 1 then.
"""

from __future__ import annotations

import uuid

from django.core.management.base import BaseCommand, CommandError

from audit.verification import verify


class Command(BaseCommand):
    help = "Check the hash chain of the audit trail; exit 1 on the first broken row."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--company", help="Only this company's chain (its id).")

    def handle(self, *args, company=None, **options) -> None:
        if company:
            try:
                company = uuid.UUID(company)
            except ValueError:
                raise CommandError(f"Identifiant d'entreprise invalide : {company}") from None
        checked, breaks = verify(company)
        first = {}
        for broken in breaks:
            first.setdefault(broken.company_id, broken)
        for broken in first.values():
            self.stdout.write(
                f"❌ company {broken.company_id or '(platform)'}: row {broken.chain_seq} "
                f"({broken.entry_id}): {broken.problem}"
            )
        if first:
            raise CommandError(
                f"Journal d'audit altéré : {len(first)} chaîne(s) rompue(s) sur {checked} lignes."
            )
        self.stdout.write(f"✅ {checked} audit rows checked: every chain is intact.")
