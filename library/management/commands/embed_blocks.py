"""Embed the library's blocks and past projects that have no embedding of the active
model (saved before embeddings existed, or embedded by another model):
``embed_blocks --company ID`` or ``--all``. Queues one ``block_embedding`` job per block
or past project; ``--now`` embeds here, in batches, and prints how many."""

from __future__ import annotations

import uuid

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q

from library import embeddings
from library.models import ContentBlock, PastProject
from rag.embeddings import EmbeddingError
from tenants import rls
from tenants.models import Company


class Command(BaseCommand):
    help = "Embed the library blocks and past projects lacking an embedding of the active model."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--company", help="The library of this company (id).")
        parser.add_argument("--all", action="store_true", help="Every company's library.")
        parser.add_argument("--now", action="store_true", help="Embed here instead of queueing.")

    def handle(self, *args, company, all, now, **options) -> None:
        if not (company or all):
            raise CommandError("Indiquez --company ID ou --all.")
        try:
            backend = embeddings.fitting_backend()
        except embeddings.EmbeddingUnavailable as exc:
            raise CommandError(str(exc)) from None
        stale_rows = Q(embedding_model__isnull=True) | ~Q(embedding_model=backend.model_name)
        with rls.every_company():
            companies = Company.objects.all()
            if company:
                try:
                    uuid.UUID(company)
                except ValueError:
                    raise CommandError(f"Entreprise inconnue : {company}.") from None
                companies = companies.filter(pk=company)
                if not companies.exists():
                    raise CommandError(f"Entreprise inconnue : {company}.")
            totals = {ContentBlock: 0, PastProject: 0}
            embedders = {
                ContentBlock: embeddings.embed_blocks,
                PastProject: embeddings.embed_past_projects,
            }
            for each in companies:
                for model, embed in embedders.items():
                    stale = list(
                        model.objects.for_company(each)
                        .filter(stale_rows)
                        .values_list("pk", flat=True)
                    )
                    if not stale:
                        continue
                    if now:
                        try:
                            totals[model] += embed(each, stale, backend=backend)
                        except EmbeddingError as exc:
                            raise CommandError(f"Embeddings impossibles : {exc}") from None
                    else:
                        for row in model.objects.for_company(each).filter(pk__in=stale):
                            embeddings.queue_embedding(each, row)
                        totals[model] += len(stale)
        verb = "embedded" if now else "queued"
        self.stdout.write(
            f"{totals[ContentBlock]} block(s) and {totals[PastProject]} past project(s) "
            f"{verb} with {backend.model_name}."
        )
