"""The one check every upload goes through (library files, memoirs, RC documents).

The content decides what a file is (``filetypes.sniff``), never its name; the size is
limited; the file is read in chunks, to hash it and to look at its first bytes and, for
a ZIP, its directory, and is never held in memory whole.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import PurePath

from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from config.filetypes import FileKind, sniff

HEAD_BYTES = 8192


@dataclass(frozen=True)
class CheckedUpload:
    name: str
    kind: FileKind
    size: int
    sha256: str


def check_upload(
    upload, *, kinds: tuple[FileKind, ...], max_bytes: int, refusal: str
) -> CheckedUpload:
    """Size limit, allow-list on the content (``kinds``), SHA-256 — or a
    ValidationError (``refusal`` is the message for a file of another kind)."""
    size = upload.size
    if not size:
        raise ValidationError(_("The file is empty."), code="empty")
    if size > max_bytes:
        raise ValidationError(
            _("The file is too large (%(size)s; at most %(max)s).")
            % {"size": filesizeformat(size), "max": filesizeformat(max_bytes)},
            code="too_large",
        )
    digest = hashlib.sha256()
    head = b""
    upload.seek(0)
    for chunk in upload.chunks():
        if len(head) < HEAD_BYTES:
            head += chunk[: HEAD_BYTES - len(head)]
        digest.update(chunk)
    kind = sniff(head, upload)
    upload.seek(0)
    if kind not in kinds:
        raise ValidationError(refusal, code="file_type")
    return CheckedUpload(upload_name(upload.name), kind, size, digest.hexdigest())


def upload_name(name: str | None) -> str:
    """The file name part of what the browser sent, at most 255 characters."""
    return PurePath(name or "").name[:255] or "fichier"
