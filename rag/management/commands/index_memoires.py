"""Index (or re-index) memoirs: ``index_memoires ID…``, ``--company ID`` or ``--all``.

Queues one background job per memoir for the workers (``manage.py procrastinate
worker``); with ``--now``, runs them here, one after the other, with a summary. With
``--stale``, only the memoirs holding chunks of another model than the active one, and
the job re-embeds those chunks from their stored text (no extraction, no file needed).
"""

from __future__ import annotations

import time

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from jobs.models import JobStatus
from rag.embeddings import EmbeddingError, get_backend
from rag.models import DocumentChunk, Memoire
from rag.tasks import queue_indexing, queue_reembedding


class Command(BaseCommand):
    help = "Queue the indexing of memoirs (extract, chunk, embed), or run it now with --now."

    def add_arguments(self, parser) -> None:
        parser.add_argument("ids", nargs="*", help="Memoir ids.")
        parser.add_argument("--company", help="Every memoir of this company (id).")
        parser.add_argument("--all", action="store_true", help="Every memoir.")
        parser.add_argument(
            "--stale",
            action="store_true",
            help="Re-embed the chunks of another model than the active one (their memoirs only).",
        )
        parser.add_argument(
            "--now", action="store_true", help="Index here and now instead of queueing jobs."
        )

    def handle(self, *args, ids, company, all, stale, now, **options) -> None:
        if not (ids or company or all):
            raise CommandError("Indiquez des identifiants de mémoires, --company ID ou --all.")
        memoires = Memoire.objects.order_by("created_at", "pk")
        try:
            if ids:
                memoires = memoires.filter(pk__in=ids)
                missing = set(ids) - {str(pk) for pk in memoires.values_list("pk", flat=True)}
                if missing:
                    raise CommandError(
                        f"Aucun mémoire avec l'identifiant {', '.join(sorted(missing))}."
                    )
            if company:
                memoires = memoires.for_company(company)
            backend = get_backend()
            if stale:
                memoires = memoires.filter(
                    pk__in=DocumentChunk.objects.exclude(
                        metadata__embedding_model=backend.model_name
                    ).values("memoire_id")
                )
            memoires = list(memoires)
        except ValidationError as exc:
            raise CommandError(f"Identifiant invalide : {exc.messages[0]}") from None
        except EmbeddingError as exc:
            raise CommandError(str(exc)) from None

        queue = queue_reembedding if stale else queue_indexing
        if not now:
            for memoire in memoires:
                queue(memoire.company_id, memoire)
            self.stdout.write(
                f"{len(memoires)} memoir(s) queued for {'re-embedding' if stale else 'indexing'}: "
                "a worker (manage.py procrastinate worker) runs the jobs."
            )
            return

        total_chunks, failures, started = 0, [], time.perf_counter()
        for number, memoire in enumerate(memoires, start=1):
            label = f"[{number}/{len(memoires)}] {memoire.filename}"
            job = queue(memoire.company_id, memoire, now=True)
            if job.status != JobStatus.SUCCEEDED:
                failures.append(memoire)
                self.stderr.write(f"{label}: FAILED — {job.error}")
                continue
            total_chunks += job.result.get("chunks", 0)
            self.stdout.write(
                f"{label}: {job.result.get('chunks', 0)} chunks in {job.result.get('seconds', 0):.1f} s"
            )
        seconds = time.perf_counter() - started
        rate = total_chunks / seconds if seconds else 0.0
        self.stdout.write(
            f"Indexed {len(memoires) - len(failures)}/{len(memoires)} memoirs: "
            f"{total_chunks} chunks in {seconds:.1f} s ({rate:.1f} chunks/s, model {backend.model_name})"
        )
        if failures:
            raise CommandError(
                f"{len(failures)} mémoire(s) en échec ; leurs passages précédents sont conservés."
            )
