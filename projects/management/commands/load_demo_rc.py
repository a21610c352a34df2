"""Give the demo company a tender whose RC is uploaded and waiting to be analysed, so
that the first Quick start command shows the whole flow (analysis → matching →
generation → review → Word document) from the project's page.

The RC is a corpus file shipped with the repository; the project and its document are
made through the same services as an upload in the admin. Running it again changes
nothing."""

from __future__ import annotations

from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from projects.forms import check_rc
from projects.models import DocumentKind, Project
from projects.rc import services as rc_services
from tenants.models import Company

DEMO_COMPANY = "de000000-0000-4000-8000-000000000001"
RC_FILE = Path(__file__).resolve().parents[2] / "rc" / "corpus" / "01-salle-multisports.pdf"
PROJECT_NAME = "Salle multisports de Saint-Aubin-du-Cormier"


class Command(BaseCommand):
    help = "Attach the demo RC to a demo project waiting for its analysis (idempotent)."

    def handle(self, *args, **options) -> None:
        company = Company.objects.filter(pk=DEMO_COMPANY).first()
        if company is None:
            raise CommandError("Entreprise de démonstration absente : chargez d'abord « demo ».")
        with transaction.atomic():
            project, _created = Project.objects.for_company(company).get_or_create(
                name=PROJECT_NAME,
                defaults={"company": company, "client": "Commune de Saint-Aubin-du-Cormier"},
            )
            if project.documents.filter(kind=DocumentKind.RC).exists():
                self.stdout.write(f"« {PROJECT_NAME} » a déjà son RC.")
                return
            upload = SimpleUploadedFile(RC_FILE.name, RC_FILE.read_bytes())
            checked = check_rc(upload)
            rc_services.attach(company, project, upload, checked, DocumentKind.RC)
        self.stdout.write(f"RC de démonstration joint à « {PROJECT_NAME} ».")
