"""Operations on memoirs outside indexing: deleting them, finding an identical upload."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from audit import services as audit
from config import storage
from rag import lexemes
from rag.models import Memoire


def same_file(company, sha256: str, *, exclude=None) -> Memoire | None:
    """The company's memoir whose document is the file of digest ``sha256``."""
    memoires = Memoire.objects.for_company(company).filter(sha256=sha256)
    if exclude is not None:
        memoires = memoires.exclude(pk=exclude)
    return memoires.order_by("created_at", "pk").first()


def delete_memoires(
    company, memoires: Iterable[Memoire], *, request=None, user=None, audited: bool = True
) -> int:
    """Delete the company's ``memoires``, their chunks (ON DELETE CASCADE) and, once
    the deletion is committed, their stored files. Audited unless the caller already
    writes the trail (the admin's ``log_deletions``). Another company's memoir is
    treated as missing: nothing of it is deleted."""
    wanted = [m.pk for m in memoires]
    with transaction.atomic():
        doomed = list(Memoire.objects.for_company(company).filter(pk__in=wanted))
        if audited and doomed:
            if request is not None:
                audit.record_objects(
                    "delete",
                    doomed,
                    request=request,
                    details_for=lambda m: {"values": audit.redact(audit.snapshot(m))},
                )
            else:
                for memoire in doomed:
                    audit.record_object(
                        "delete",
                        memoire,
                        user=user,
                        extra={"values": audit.redact(audit.snapshot(memoire))},
                    )
        paths = [m.storage_path for m in doomed if m.storage_path]
        for memoire in doomed:
            lexemes.remove_memoir(memoire.company_id, memoire.pk)
        Memoire.objects.filter(pk__in=[m.pk for m in doomed]).delete()
        transaction.on_commit(lambda: storage.remove_files(paths))
    return len(doomed)
