"""``manage.py memoir_from_rc RC_FILE --company COMPANY --output FILE.docx
[--approve-above CONFIDENCE] [--backend NAME] [--sources]``: the whole flow for one RC.

Creates a project of the company from the RC file, analyses it, matches the library's
content (``projects.matching.run_matching``), approves the matches at or above the
confidence (outdated content is left unapproved), generates every section, exports the
Word document to FILE.docx and prints a summary. Any failure: one French line on
stderr, exit status 1, and nothing written (the database work is rolled back, the
stored files deleted, the output file not created).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand
from django.db import transaction
from django.db.models import Sum
from django.utils import translation

from jobs.models import JobStatus
from projects import matching, services, workflow
from projects.memoir import backends, context, export, generation
from projects.memoir.plan import plan
from projects.models import (
    ContentMatch,
    DocumentKind,
    GenerationRequest,
    Project,
    ProjectStatus,
)
from tenants import rls
from tenants.models import Company


class Failed(Exception):
    """One French line for the operator."""


def find_company(value: str) -> Company:
    with rls.every_company():
        found = Company.objects.filter(name__iexact=value.strip())
        try:
            import uuid

            found = Company.objects.filter(pk=uuid.UUID(value)) | found
        except ValueError:
            pass
        companies = list(found[:2])
    if not companies:
        raise Failed(f"Entreprise inconnue : « {value} » (indiquez son nom ou son identifiant).")
    if len(companies) > 1:
        raise Failed(f"Plusieurs entreprises s'appellent « {value} » : indiquez son identifiant.")
    return companies[0]


class Command(BaseCommand):
    help = "Create a project from an RC file and produce its memoir as a Word document."

    def add_arguments(self, parser) -> None:
        parser.add_argument("rc_file", help="The RC: a PDF, DOCX or TXT file.")
        parser.add_argument("--company", required=True, help="The company's name or id.")
        parser.add_argument("--output", required=True, help="The Word file to write (.docx).")
        parser.add_argument(
            "--approve-above",
            type=float,
            default=None,
            help="Approve the matches whose confidence is at least this (0–1).",
        )
        parser.add_argument("--backend", choices=backends.BACKENDS, help="assembly or llm.")
        parser.add_argument("--sources", action="store_true", help="Add the annex of sources.")
        parser.add_argument("--name", help="The project's name (default: the RC's subject).")

    def fail(self, message: str) -> None:
        self.stderr.write(message.replace("\n", " "))
        sys.exit(1)

    def handle(self, *args, **options) -> None:
        with translation.override("fr"):
            try:
                summary = self.flow(**options)
            except Failed as exc:
                self.fail(str(exc))
            except (
                generation.GenerationNotAllowed,
                export.ExportNotAllowed,
                workflow.TransitionRefused,
                services.OutdatedContent,
            ) as exc:
                self.fail(str(exc))
            except Exception as exc:  # any failure is one line, the work rolled back
                self.fail(f"Échec : {type(exc).__name__} : {exc}")
        self.stdout.write(summary)

    # --- the flow ------------------------------------------------------------------------------
    def flow(self, *, rc_file, company, output, approve_above, backend, sources, name, **_o) -> str:
        started = time.perf_counter()
        path, out = Path(rc_file), Path(output)
        if approve_above is not None and not 0 <= approve_above <= 1:
            raise Failed("--approve-above doit être entre 0 et 1.")
        if out.suffix.lower() != ".docx":
            raise Failed(f"Le fichier de sortie doit finir par .docx : « {output} ».")
        if not out.parent.exists() or not out.parent.is_dir():
            raise Failed(f"Le dossier de « {output} » n'existe pas.")
        try:
            data = path.read_bytes()
        except IsADirectoryError:
            raise Failed(f"Impossible de lire « {rc_file} » : c'est un dossier.") from None
        except FileNotFoundError:
            raise Failed(f"Impossible de lire « {rc_file} » : ce fichier n'existe pas.") from None
        except OSError as exc:
            raise Failed(f"Impossible de lire « {rc_file} » : {exc.strerror or exc}.") from None
        try:
            backend = backends.backend_name(backend)
        except backends.UnknownBackend as exc:
            raise Failed(str(exc)) from None
        found = find_company(company)
        stored: list[str] = []
        try:
            with rls.session(rls.of_company(found)), transaction.atomic():
                built, lines = self._produce(
                    found, path.name, data, name, approve_above, backend, sources, stored
                )
        except BaseException:
            for storage_path in stored:
                default_storage.delete(storage_path)
            raise
        # The output appears whole, or not at all.
        handle, temporary = tempfile.mkstemp(dir=out.parent, suffix=".docx.part")
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(built.data)
            os.replace(temporary, out)
        except OSError as exc:
            Path(temporary).unlink(missing_ok=True)
            raise Failed(f"Impossible d'écrire « {output} » : {exc.strerror or exc}.") from None
        lines.append(f"Document : {out} (~{built.pages} pages)")
        lines.append(f"Durée : {time.perf_counter() - started:.2f} s")
        return "\n".join(lines)

    def _produce(self, company, filename, data, name, approve_above, backend, sources, stored):
        from projects.forms import check_rc
        from projects.rc import services as rc_services

        upload = SimpleUploadedFile(filename, data)
        try:
            checked = check_rc(upload)
        except ValidationError as exc:
            raise Failed(f"RC refusé : {' '.join(exc.messages)}") from None
        project = Project.objects.create(company=company, name=(name or Path(filename).stem)[:255])
        document = rc_services.attach(company, project, upload, checked, DocumentKind.RC)
        stored.append(document.storage_path)
        job = rc_services.queue_analysis(company, project, document=document, now=True)
        if job.status != JobStatus.SUCCEEDED:
            raise Failed(f"L'analyse du RC a échoué : {job.error}")
        project.refresh_from_db()
        if not name:
            subject = (
                (project.rc_analysis.project_info.get("subject") or {}).get("value")
                if hasattr(project, "rc_analysis")
                else None
            )
            if subject:
                Project.objects.filter(pk=project.pk).update(name=str(subject)[:255])
                project.refresh_from_db()

        # Matching, then the approvals.
        if project.status == ProjectStatus.RC_ANALYZED:
            workflow.move(company, project, ProjectStatus.MATCHING)
        matching.run_matching(company, project, progress=None)
        project.refresh_from_db()
        if project.status == ProjectStatus.MATCHING:
            workflow.move(company, project, ProjectStatus.MATCHED)
            project.refresh_from_db()
        if project.status != ProjectStatus.MATCHED:
            raise Failed(
                f"La mise en correspondance n'a pas abouti (projet « {ProjectStatus(project.status).label} »)."
            )
        matches = ContentMatch.objects.for_company(company).filter(project=project)
        approved_now = skipped = 0
        if approve_above is not None:
            candidates = list(matches.filter(approved=False, confidence__gte=approve_above))
            outdated = {o.match_id for o in services.outdated_blocks(company, candidates)}
            skipped = len(outdated)
            approved_now = services.set_approval(
                company, [m for m in candidates if m.pk not in outdated], True
            )

        # Generation and export.
        job = generation.queue_generation(company, project, backend=backend, now=True)
        if job.status != JobStatus.SUCCEEDED:
            raise Failed(f"La génération a échoué : {job.error}")
        project.refresh_from_db()
        job = export.queue_export(company, project, sources=sources, now=True)
        if job.status != JobStatus.SUCCEEDED:
            raise Failed(f"L'export Word a échoué : {job.error}")
        row = project.exports.get(pk=job.result["export"])
        stored.append(row.storage_path)
        with default_storage.open(row.storage_path, "rb") as handle:
            built = export.Built(
                data=handle.read(),
                sections=row.sections,
                pages=row.page_estimate,
                page_limit=row.page_limit,
                warnings=row.warnings,
            )
        return built, self._summary(company, project, matches, approved_now, skipped, row)

    def _summary(self, company, project, matches, approved_now, skipped, row) -> list[str]:
        plans, analysis = plan(company, project)
        lines = [f"Projet : {project.name} ({project.pk})", "Critères :"]
        for criterion in analysis.criteria:
            lines.append(f"  {criterion.id} {criterion.name} — {criterion.written or '—'}")
            for sub in criterion.subcriteria:
                lines.append(f"    {sub.id} {sub.name} — {sub.written or '—'}")
        covered = total = 0.0
        for item in plans:
            points = (item.share or 0) * 100
            total += points
            if context.approved_blocks(company, project, item.requirement_ids):
                covered += points
        lines.append(
            f"Couverture : {covered:.1f} / {total:.1f} points couverts par du contenu approuvé"
        )
        approved = matches.filter(approved=True).count()
        lines.append(
            f"Correspondances : {matches.count()} (approuvées : {approved}, dont"
            f" {approved_now} par --approve-above ; écartées car périmées : {skipped})"
        )
        lines.append(f"Sections : {row.sections}")
        spend = (
            GenerationRequest.objects.for_company(company)
            .filter(project=project, request_context__purpose="generation")
            .aggregate(tokens=Sum("tokens_used"), cost=Sum("cost_usd"))
        )
        lines.append(f"Jetons : {spend['tokens'] or 0} — coût : {spend['cost'] or 0} USD")
        for warning in row.warnings:
            lines.append(f"Attention : {warning}")
        return lines
