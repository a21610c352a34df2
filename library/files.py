"""Storing library files: checked on content, hashed, one copy per company."""

from __future__ import annotations

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from config import storage
from config.filetypes import LIBRARY_KINDS
from library.models import StoredFile
from library.uploads import CheckedUpload, check_upload


def check_library_upload(upload) -> CheckedUpload:
    """The shared upload check, for what the content library accepts."""
    return check_upload(
        upload,
        kinds=LIBRARY_KINDS,
        max_bytes=settings.LIBRARY_MAX_FILE_BYTES,
        refusal=_(
            "This type of file is not accepted: PDF, DOCX, XLSX and images (PNG, JPEG, GIF, WebP) are."
        ),
    )


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
    checked = checked or check_library_upload(upload)
    existing = StoredFile.objects.filter(company_id=company_id, sha256=checked.sha256).first()
    if existing is not None:
        return existing, False
    path = default_storage.save(
        storage.library_file_path(company_id, checked.sha256, checked.name), upload
    )
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
