"""Storing library files: checked on content, hashed, one copy per company."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from library.filetypes import LIBRARY_KINDS, FileKind, sniff
from library.models import StoredFile


def max_file_bytes() -> int:
    return getattr(settings, "LIBRARY_MAX_FILE_BYTES", 20 * 1024 * 1024)


@dataclass
class CheckedUpload:
    name: str
    kind: FileKind
    size: int
    sha256: str


def check_upload(upload) -> CheckedUpload:
    """Size limit, allow-list on the content, SHA-256 — or a ValidationError."""
    size = upload.size
    if not size:
        raise ValidationError(_("The file is empty."), code="empty")
    if size > max_file_bytes():
        raise ValidationError(
            _("The file is too large (%(size)s; at most %(max)s).")
            % {"size": filesizeformat(size), "max": filesizeformat(max_file_bytes())},
            code="too_large",
        )
    digest = hashlib.sha256()
    upload.seek(0)
    head = upload.read(8192)
    digest.update(head)
    whole = head
    for chunk in iter(lambda: upload.read(1024 * 1024), b""):
        digest.update(chunk)
        if len(whole) < 64 * 1024 * 1024:
            whole += chunk
    upload.seek(0)
    kind = sniff(head, whole)
    if kind not in LIBRARY_KINDS:
        raise ValidationError(
            _(
                "This type of file is not accepted: PDF, DOCX, XLSX and images (PNG, JPEG, GIF, WebP) are."
            ),
            code="file_type",
        )
    return CheckedUpload(
        PurePath(upload.name).name[:255] or "fichier", kind, size, digest.hexdigest()
    )


def storage_path(company_id, sha256: str, name: str) -> str:
    """Per-company location; the hash in the path keeps names from colliding."""
    return f"companies/{company_id}/files/{sha256[:2]}/{sha256}/{PurePath(name).name}"


def store_upload(
    upload,
    *,
    company_id,
    user,
    checked: CheckedUpload | None = None,
    metadata: dict | None = None,
) -> tuple[StoredFile, bool]:
    """The company's StoredFile for this content, and whether it was created.

    The same content uploaded twice in one company is stored once: the existing row
    is returned (the unique (company_id, sha256) index settles a race).
    """
    checked = checked or check_upload(upload)
    existing = StoredFile.objects.filter(company_id=company_id, sha256=checked.sha256).first()
    if existing is not None:
        return existing, False
    path = default_storage.save(storage_path(company_id, checked.sha256, checked.name), upload)
    try:
        with transaction.atomic():
            stored = StoredFile.objects.create(
                company_id=company_id,
                filename=checked.name,
                file_type=checked.kind.mime_type,
                storage_url=path,
                size_bytes=checked.size,
                sha256=checked.sha256,
                uploaded_by=user,
                metadata=metadata or {},
            )
    except IntegrityError:
        default_storage.delete(path)
        return StoredFile.objects.get(company_id=company_id, sha256=checked.sha256), False
    return stored, True
