"""Index (or re-index) memoirs: ``index_memoires ID…``, ``--company ID`` or ``--all``."""

from __future__ import annotations

import sys
import time

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from rag.embeddings import EmbeddingError, get_backend
from rag.indexing import IndexingError, index_memoire
from rag.models import Memoire


class Command(BaseCommand):
    help = "Extract, chunk and embed memoirs into document_chunks, with a summary."

    def add_arguments(self, parser) -> None:
        parser.add_argument("ids", nargs="*", help="Memoir ids.")
        parser.add_argument("--company", help="Every memoir of this company (id).")
        parser.add_argument("--all", action="store_true", help="Every memoir.")
        parser.add_argument(
            "--stale", action="store_true", help="Only memoirs not indexed with the active model."
        )

    def handle(self, *args, ids, company, all, stale, **options) -> None:
        if not (ids or company or all):
            raise CommandError("Name memoir ids, --company ID or --all.")
        memoires = Memoire.objects.order_by("created_at", "pk")
        try:
            if ids:
                memoires = memoires.filter(pk__in=ids)
                missing = set(ids) - {str(pk) for pk in memoires.values_list("pk", flat=True)}
                if missing:
                    raise CommandError(f"No memoir with id {', '.join(sorted(missing))}.")
            if company:
                memoires = memoires.filter(company_id=company)
            backend = get_backend()
            if stale:
                memoires = memoires.exclude(metadata__index__model=backend.model_name)
            memoires = list(memoires)
        except ValidationError as exc:
            raise CommandError(f"Invalid id: {exc.messages[0]}") from None
        except EmbeddingError as exc:
            raise CommandError(str(exc)) from None

        total_chunks, failures, started = 0, [], time.perf_counter()
        for number, memoire in enumerate(memoires, start=1):
            label = f"[{number}/{len(memoires)}] {memoire.filename}"

            def progress(done: int, count: int, label=label) -> None:
                width = 30
                filled = int(width * done / max(count, 1))
                sys.stderr.write(
                    f"\r{label} [{'#' * filled}{'.' * (width - filled)}] {done}/{count}"
                )
                sys.stderr.flush()

            try:
                result = index_memoire(memoire, backend=backend, progress=progress)
            except IndexingError as exc:
                sys.stderr.write("\n")
                failures.append((memoire, str(exc)))
                self.stderr.write(f"{label}: FAILED — {exc}")
                continue
            sys.stderr.write("\n")
            total_chunks += result.chunks
            self.stdout.write(f"{label}: {result.chunks} chunks in {result.seconds:.1f} s")

        seconds = time.perf_counter() - started
        rate = total_chunks / seconds if seconds else 0.0
        self.stdout.write(
            f"Indexed {len(memoires) - len(failures)}/{len(memoires)} memoirs: "
            f"{total_chunks} chunks in {seconds:.1f} s ({rate:.1f} chunks/s, model {backend.model_name})"
        )
        if failures:
            raise CommandError(
                f"{len(failures)} memoir(s) failed; their previous chunks were kept."
            )
