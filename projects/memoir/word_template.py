"""The company's Word template and logo, which the memoir export builds on (issue 15).

A company admin uploads a .docx whose styles (Normal, Title, Subtitle, Heading 1–3,
List Bullet, Table Grid), page setup, header and footer the export keeps, and whose body
(a cover page of the company's own, for instance) comes before the memoir; and a PNG or
JPEG logo put on the memoir's cover. Both go through the one upload check
(``library.uploads.check_upload``: content sniffed, size limited, read in chunks) and are
really opened (python-docx reads the template and places the logo in a document); they
are stored under the company's path (``config.storage``), named by
``Company.settings["word_template"]`` and ``Company.logo_url``. Every change is audited
(``company.word_template_set``…) and the file it replaces is deleted from the storage
once the change is committed.

A starter template (``starter``), built here with every style the export uses and a few
sample paragraphs between two bookmarks (``SAMPLES_BOOKMARK``) that the export leaves out,
is offered for the bid manager to restyle in Word and upload back.

Every function takes the company it acts for; a path that is not under that company's
folder (typed by hand in the settings, another company's) is never read nor deleted.
"""

from __future__ import annotations

import contextlib
import datetime
import io
import zipfile
from dataclasses import dataclass, field
from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from audit import services as audit
from config import storage as paths
from config.filetypes import DOCX, JPEG, PNG
from library.uploads import CheckedUpload, check_upload
from tenants.managers import company_pk
from tenants.models import Company

#: The key of ``Company.settings`` naming the template's path in the storage.
SETTING = Company.MANAGED_SETTINGS[0]  # "word_template"
#: The styles the export writes with (the built-in names Word keeps in every language).
EXPORT_STYLES = (
    "Normal",
    "Title",
    "Subtitle",
    "Heading 1",
    "Heading 2",
    "Heading 3",
    "List Bullet",
    "Table Grid",
)
#: Their names in Word's interface (French Word calls "Heading 1" "Titre 1").
STYLE_LABELS = {
    "Normal": pgettext_lazy("Word style", "Normal"),
    "Title": pgettext_lazy("Word style", "Title"),
    "Subtitle": pgettext_lazy("Word style", "Subtitle"),
    "Heading 1": pgettext_lazy("Word style", "Heading 1"),
    "Heading 2": pgettext_lazy("Word style", "Heading 2"),
    "Heading 3": pgettext_lazy("Word style", "Heading 3"),
    "List Bullet": pgettext_lazy("Word style", "List Bullet"),
    "Table Grid": pgettext_lazy("Word style", "Table Grid"),
}
#: The bookmark around the starter template's sample paragraphs (hidden in Word: its
#: name starts with an underscore), which the export removes.
SAMPLES_BOOKMARK = "_EnpycoExemples"
#: How much the template's unpacked parts may weigh, against its size (a ZIP bomb).
UNPACKED_RATIO = 10
#: The largest logo on the cover.
LOGO_MAX_WIDTH_CM = 5.0
LOGO_MAX_HEIGHT_CM = 3.0

TEMPLATE_SET = "word_template_set"
TEMPLATE_REMOVE = "word_template_remove"
LOGO_SET = "logo_set"
LOGO_REMOVE = "logo_remove"

_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


@dataclass(frozen=True)
class InPlace:
    """A file in place: its path in the storage, its name, size and date."""

    path: str
    name: str
    size: int | None
    modified: datetime.datetime | None


@dataclass
class Current:
    template: InPlace | None
    logo: InPlace | None
    #: The export's styles the template lacks (the export writes without them).
    missing_styles: list[str] = field(default_factory=list)
    #: The template could not be read any more (the export goes without it).
    unreadable: bool = False


# --- what is in place ------------------------------------------------------------------------


def _company(company) -> Company:
    """The company given, read when given its id."""
    return company if isinstance(company, Company) else Company.objects.get(pk=company_pk(company))


def _own(company_id, path) -> str | None:
    """``path`` when it names a file in the company's folder of the storage."""
    path = str(path or "").strip()
    if not path or "://" in path or ".." in PurePath(path).parts:
        return None
    return path if path.startswith(paths.company_root(company_id) + "/") else None


def _settings(company: Company) -> dict:
    """The company's settings (an object; anything else typed by hand reads as none)."""
    return dict(company.settings) if isinstance(company.settings, dict) else {}


def template_path(company: Company) -> str | None:
    return _own(company.pk, _settings(company).get(SETTING))


def logo_path(company: Company) -> str | None:
    return _own(company.pk, company.logo_url)


def _in_place(path: str | None) -> InPlace | None:
    if not path:
        return None
    try:
        if not default_storage.exists(path):
            return None
    except OSError:
        return None
    size = modified = None
    with contextlib.suppress(OSError, NotImplementedError):
        size = default_storage.size(path)
    with contextlib.suppress(OSError, NotImplementedError):
        modified = default_storage.get_modified_time(path)
    return InPlace(path=path, name=PurePath(path).name, size=size, modified=modified)


def current(company) -> Current:
    """What the company's export uses now."""
    company = _company(company)
    state = Current(template=_in_place(template_path(company)), logo=_in_place(logo_path(company)))
    if state.template is not None:
        try:
            document = _read(state.template.path)
        except Exception:  # whatever python-docx raises: unreadable
            state.unreadable = True
        else:
            state.missing_styles = missing_styles(document)
    return state


def missing_styles(document) -> list[str]:
    """The names of the export's styles ``document`` lacks (Word saves a built-in style
    in a document once it is used or changed there)."""
    present = {style.name for style in document.styles}
    return [name for name in EXPORT_STYLES if name not in present]


def style_labels(names) -> str:
    """Style names as Word shows them, joined."""
    return ", ".join(str(STYLE_LABELS.get(name, name)) for name in names)


# --- the checks ------------------------------------------------------------------------------


def check_template(upload) -> CheckedUpload:
    """The upload check for a Word template, then python-docx opens it: a renamed file,
    a ZIP that is no Word document, a damaged one or a .dotx is refused in French."""
    checked = check_upload(
        upload,
        kinds=(DOCX,),
        max_bytes=settings.WORD_TEMPLATE_MAX_BYTES,
        refusal=_("The template must be a Word document (.docx); this file is not one."),
    )
    upload.seek(0)
    try:
        with zipfile.ZipFile(upload) as archive:
            unpacked = sum(item.file_size for item in archive.infolist())
            # Measured before anything is unpacked: a small file may inflate to gigabytes.
            if unpacked > UNPACKED_RATIO * settings.WORD_TEMPLATE_MAX_BYTES:
                raise _unreadable()
            types = archive.read("[Content_Types].xml")
    except (zipfile.BadZipFile, KeyError, OSError, ValueError):
        raise _unreadable() from None
    finally:
        upload.seek(0)
    if b"wordprocessingml.template.main+xml" in types:
        raise ValidationError(
            _(
                "This file is a Word template (.dotx): open it in Word, save it as a Word "
                "document (.docx) and upload that."
            ),
            code="dotx",
        )
    try:
        import docx

        docx.Document(upload)
    except Exception:  # whatever python-docx raises: not a document it reads
        raise _unreadable() from None
    finally:
        upload.seek(0)
    return checked


def _unreadable() -> ValidationError:
    return ValidationError(
        _(
            "This file cannot be read as a Word document (.docx): it may be damaged. Open "
            "it in Word, save it again as a .docx and upload it."
        ),
        code="unreadable",
    )


def check_logo(upload) -> CheckedUpload:
    """The upload check for a logo (PNG or JPEG), then placed in a document as the
    export places it."""
    checked = check_upload(
        upload,
        kinds=(PNG, JPEG),
        max_bytes=settings.COMPANY_LOGO_MAX_BYTES,
        refusal=_("The logo must be a PNG or JPEG image; this file is not one."),
    )
    upload.seek(0)
    try:
        import docx

        docx.Document().add_picture(io.BytesIO(upload.read()))
    except Exception:  # an image python-docx cannot place
        raise ValidationError(
            _("This image cannot be read: it may be damaged. Save it again as PNG or JPEG."),
            code="unreadable",
        ) from None
    finally:
        upload.seek(0)
    return checked


# --- changes ---------------------------------------------------------------------------------


def set_template(
    company, upload, *, checked: CheckedUpload | None = None, request=None, user=None
) -> InPlace | None:
    """Store ``upload`` as the company's Word template (checked here when ``checked``
    is not given) and return what is now in place."""
    checked = checked or check_template(upload)
    company_id = company_pk(company)
    stored = default_storage.save(
        paths.word_template_path(company_id, checked.sha256, checked.name), upload
    )
    _replace(company_id, TEMPLATE_SET, stored, checked, request=request, user=user)
    return _in_place(stored)


def set_logo(
    company, upload, *, checked: CheckedUpload | None = None, request=None, user=None
) -> InPlace | None:
    """Store ``upload`` as the company's logo (``Company.logo_url``)."""
    checked = checked or check_logo(upload)
    company_id = company_pk(company)
    stored = default_storage.save(paths.logo_path(company_id, checked.sha256, checked.name), upload)
    _replace(company_id, LOGO_SET, stored, checked, request=request, user=user)
    return _in_place(stored)


def remove_template(company, *, request=None, user=None) -> bool:
    """The export goes back to Word's default styles; False when there was none."""
    return _replace(company_pk(company), TEMPLATE_REMOVE, None, None, request=request, user=user)


def remove_logo(company, *, request=None, user=None) -> bool:
    return _replace(company_pk(company), LOGO_REMOVE, None, None, request=request, user=user)


def _replace(company_id, verb: str, stored: str | None, checked, *, request, user) -> bool:
    """Name ``stored`` (None: nothing) as the company's template or logo, audited, in
    one transaction; the file replaced is deleted once it commits, the new one if it
    does not."""
    logo = verb in (LOGO_SET, LOGO_REMOVE)
    try:
        with transaction.atomic():
            locked = Company.objects.select_for_update().get(pk=company_id)
            if logo:
                before = locked.logo_url or None
                old = logo_path(locked)
                locked.logo_url = stored
                fields = ["logo_url"]
            else:
                values = _settings(locked)
                before = values.get(SETTING) or None
                old = template_path(locked)
                if stored:
                    values[SETTING] = stored
                else:
                    values.pop(SETTING, None)
                locked.settings = values
                fields = ["settings"]
            if stored is None and before is None:
                return False  # nothing to remove
            locked.save(update_fields=fields)
            before_name = PurePath(str(before)).name if before else None
            if checked is not None:
                details = {"file": checked.name, "size_bytes": checked.size}
                if before_name:
                    details["previous_file"] = before_name
            else:
                details = {"file": before_name}
            audit.record_object(
                verb,
                locked,
                request=request,
                user=user,
                changes={"logo_url": {"old": before, "new": stored}} if logo else None,
                extra=details,
            )
            # Only a file this page stored is deleted: a path typed by hand before it
            # existed may name another of the company's files (a library image).
            root = (paths.logo_root if logo else paths.word_template_root)(company_id)
            if old and old != stored and old.startswith(root + "/"):
                transaction.on_commit(lambda: paths.remove_files([old]))
    except BaseException:
        if stored:
            paths.remove_files([stored])  # nothing half-written
        raise
    return True


# --- what the export reads -------------------------------------------------------------------


def _read(path: str):
    import docx

    with default_storage.open(path, "rb") as handle:
        return docx.Document(io.BytesIO(handle.read()))


def open_template(company):
    """The document the company's export starts from: its template without the starter's
    sample paragraphs, or Word's default one (no template, or one that is no longer
    readable)."""
    import docx

    company = _company(company)
    path = template_path(company)
    document = None
    if path:
        try:
            document = _read(path)
        except Exception:  # missing or unreadable: the default styles
            document = None
    if document is None:
        return docx.Document()
    _remove_samples(document)
    _remove_empty_body(document)
    return document


def _body_children(document) -> list:
    body = document.element.body
    return [child for child in body if child.tag != f"{{{_W}}}sectPr"]


def _remove_samples(document) -> None:
    """The body's paragraphs and tables from the start of ``SAMPLES_BOOKMARK`` to its
    end, both included (nothing when either is gone)."""
    children = _body_children(document)
    start = end = None
    bookmark_id = None
    for index, child in enumerate(children):
        if start is None:
            for mark in child.iter(f"{{{_W}}}bookmarkStart"):
                if mark.get(f"{{{_W}}}name") == SAMPLES_BOOKMARK:
                    start, bookmark_id = index, mark.get(f"{{{_W}}}id")
                    break
        ends = child.iter(f"{{{_W}}}bookmarkEnd")
        if start is not None and any(mark.get(f"{{{_W}}}id") == bookmark_id for mark in ends):
            end = index
            break
    if start is None or end is None:
        return
    for child in children[start : end + 1]:
        child.getparent().remove(child)


_VISIBLE = {f"{{{_W}}}{name}" for name in ("t", "drawing", "pict", "object", "sectPr", "tbl")}


def _remove_empty_body(document) -> None:
    """A body of empty paragraphs only (what Word leaves once the samples are deleted)
    adds nothing before the memoir."""
    children = _body_children(document)
    if any(element.tag in _VISIBLE for child in children for element in child.iter()):
        return
    for child in children:
        child.getparent().remove(child)


def logo_image(company) -> bytes | None:
    """The company's logo, when it names an image in its folder of the storage."""
    company = company if isinstance(company, Company) else _company(company)
    path = logo_path(company)
    if not path:
        return None
    try:
        with default_storage.open(path, "rb") as handle:
            return handle.read()
    except OSError:
        return None


def add_logo(document, data: bytes) -> None:
    """The logo at most ``LOGO_MAX_WIDTH_CM`` wide and ``LOGO_MAX_HEIGHT_CM`` high."""
    from docx.shared import Cm

    picture = document.add_picture(io.BytesIO(data), width=Cm(LOGO_MAX_WIDTH_CM))
    if picture.height > Cm(LOGO_MAX_HEIGHT_CM):
        ratio = Cm(LOGO_MAX_HEIGHT_CM) / picture.height
        picture.width = int(picture.width * ratio)
        picture.height = Cm(LOGO_MAX_HEIGHT_CM)


# --- the starter template --------------------------------------------------------------------


def _field(paragraph, instruction: str, shown: str) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    simple = OxmlElement("w:fldSimple")
    simple.set(qn("w:instr"), instruction)
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = shown
    run.append(text)
    simple.append(run)
    paragraph._p.append(simple)


def _bookmark(paragraph, tag: str, bookmark_id: str) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    mark = OxmlElement(f"w:{tag}")
    mark.set(qn("w:id"), bookmark_id)
    if tag == "bookmarkStart":
        mark.set(qn("w:name"), SAMPLES_BOOKMARK)
        paragraph._p.insert(1 if paragraph._p.pPr is not None else 0, mark)
    else:
        paragraph._p.append(mark)


def starter(company) -> bytes:
    """A Word document with every style the export uses, a header with the company's
    name and a footer with the page number, and sample paragraphs (left out of the
    exports) showing each style: restyled in Word, it is uploaded back as the template."""
    import docx
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    company = _company(company)
    document = docx.Document()
    section = document.sections[0]
    section.header.paragraphs[0].text = f"{company.name} — {_('Technical memoir')}"
    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    footer.add_run(_("Page") + " ")
    _field(footer, "PAGE", "1")
    footer.add_run(" / ")
    _field(footer, "NUMPAGES", "1")

    first = document.add_paragraph(
        _(
            "Sample text of the styles the export uses. Change the styles themselves "
            "(Styles pane, right-click a style, Modify), the header, the footer and the "
            "page layout, then upload this document back as the company's template. "
            "This sample text, down to its last line below the table, is left out of the "
            "exported memoirs; anything you add before or after it (a cover page of your "
            "own, for instance) comes before the memoir."
        )
    )
    document.add_paragraph(_("Name of the project"), style="Title")
    document.add_paragraph(_("Technical memoir"), style="Subtitle")
    document.add_heading(_("1. Technical value"), level=1)
    document.add_heading(_("1.1 Methodology"), level=2)
    document.add_heading(_("Organisation of the site"), level=3)
    document.add_paragraph(
        _(
            "Body text of the memoir, in the Normal style: the sections of the memoir are "
            "written in it."
        )
    )
    bullet = _("A bullet point (style “%(style)s”)") % {"style": STYLE_LABELS["List Bullet"]}
    for item in (bullet, _("Another bullet point")):
        document.add_paragraph(item, style="List Bullet")
    table = document.add_table(rows=3, cols=3)
    table.style = "Table Grid"
    rows = (
        (_("Name"), _("Role"), _("Experience")),
        ("Camille Durand", _("Site manager"), _("15 years")),
        ("Louis Petit", _("Works supervisor"), _("8 years")),
    )
    for i, row in enumerate(rows):
        for j, value in enumerate(row):
            cell = table.cell(i, j)
            cell.text = value
            if i == 0:
                for run in cell.paragraphs[0].runs:
                    run.bold = True
    last = document.add_paragraph(
        _("End of the sample text (the table is in the style “%(style)s”).")
        % {"style": STYLE_LABELS["Table Grid"]}
    )
    _bookmark(first, "bookmarkStart", "0")
    _bookmark(last, "bookmarkEnd", "0")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
