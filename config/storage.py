"""Where each kind of file is kept in the storage: every path starts with the company's
folder, so a company's files can be listed, moved or deleted together."""

from __future__ import annotations

import contextlib
from pathlib import PurePath


def _name(filename: str, default: str) -> str:
    return PurePath(filename or "").name or default


def company_root(company_id) -> str:
    return f"companies/{company_id}"


def library_file_path(company_id, sha256: str, filename: str) -> str:
    """A library file; the hash in the path keeps names from colliding."""
    return f"{company_root(company_id)}/files/{sha256[:2]}/{sha256}/{_name(filename, 'fichier')}"


def memoir_path(company_id, memoire_id, filename: str) -> str:
    return f"{company_root(company_id)}/memoires/{memoire_id}/{_name(filename, 'memoire')}"


def project_document_path(company_id, project_id, sha256: str, filename: str) -> str:
    """A consultation document of a project (its RC, notice, CCTP…); the hash keeps two
    versions of a file of the same name apart."""
    return (
        f"{company_root(company_id)}/projects/{project_id}/documents/{sha256[:16]}/"
        f"{_name(filename, 'document')}"
    )


def memoir_export_path(company_id, project_id, export_id, filename: str) -> str:
    """A Word export of a project's memoir (each export is kept)."""
    return (
        f"{company_root(company_id)}/projects/{project_id}/exports/{export_id}/"
        f"{_name(filename, 'memoire.docx')}"
    )


def word_template_root(company_id) -> str:
    """The folder of the company's Word templates (what replacing one may delete)."""
    return f"{company_root(company_id)}/word-template"


def word_template_path(company_id, sha256: str, filename: str) -> str:
    """The company's Word template for its memoir exports; the hash keeps a new template
    from overwriting the one in place until the change is committed."""
    return f"{word_template_root(company_id)}/{sha256[:16]}/{_name(filename, 'modele.docx')}"


def logo_root(company_id) -> str:
    """The folder of the company's logos (what replacing one may delete)."""
    return f"{company_root(company_id)}/logo"


def logo_path(company_id, sha256: str, filename: str) -> str:
    """The company's logo (the cover of its memoir exports)."""
    return f"{logo_root(company_id)}/{sha256[:16]}/{_name(filename, 'logo')}"


def remove_files(paths) -> None:
    """Delete stored files, once the rows naming them are gone: a file already gone, or
    a storage that refuses, leaves the rest as it is."""
    from django.core.files.storage import default_storage

    for path in paths:
        with contextlib.suppress(OSError):
            default_storage.delete(path)
