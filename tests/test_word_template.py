"""The company's Word template and logo (issue 15): uploaded on the admin's "Modèle Word du
mémoire" page by the company's admins, checked (content, size, really opened), stored under
the company's path, used by the export, replaced or removed (the old file deleted once the
change is committed), every change audited and read as a French sentence; read-only for
the other roles, unknown to other companies."""

from __future__ import annotations

import io
import re
import struct
import uuid
import zipfile
import zlib
from html import unescape

import docx
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import translation
from docx.shared import Cm

from audit.models import AuditLog
from jobs.models import JobStatus
from projects.memoir import export, generation, word_template
from projects.models import MemoirExport
from tenants.managers import CompanyRequired
from tenants.models import Company, Role
from tests.factories import CompanyFactory, SuperuserFactory, UserFactory
from tests.memoir_support import memoir_project

pytestmark = pytest.mark.django_db

HEADER = "Bâtiments du Sud-Ouest — en-tête du modèle"


def png(width: int, height: int) -> bytes:
    """A valid RGB PNG of ``width`` × ``height`` white pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\xff\xff\xff" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


#: Wider than high, and higher than wide.
PNG_2X1 = png(2, 1)
PNG_1X4 = png(1, 4)


@pytest.fixture(autouse=True)
def _setup(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.GENERATION_BACKEND = "assembly"
    with translation.override("fr"):
        yield


@pytest.fixture
def generated():
    memoir = memoir_project()
    job = generation.queue_generation(memoir.company, memoir.project, user=memoir.user, now=True)
    assert job.status == JobStatus.SUCCEEDED, job.error
    memoir.project.refresh_from_db()
    return memoir


@pytest.fixture
def company(generated):
    return generated.company


@pytest.fixture
def admin_user(company):
    return UserFactory(company=company, role=Role.ADMIN, full_name="Claire Martin")


def french(user) -> Client:
    client = Client(headers={"accept-language": "fr"})
    client.force_login(user)
    return client


def text(response) -> str:
    html = response.content.decode()
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()


def page_url(company) -> str:
    return reverse("admin:memoir_word_template_company", args=[company.pk])


def template_bytes(header: str = HEADER, font: str = "Arial") -> bytes:
    document = docx.Document()
    document.sections[0].header.paragraphs[0].text = header
    document.styles["Normal"].font.name = font
    document.styles["Heading 1"].font.name = "Georgia"
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def upload(name: str, data: bytes, content_type: str = "application/octet-stream"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def post_template(client, company, data: bytes, name: str = "modele-entreprise.docx"):
    return client.post(
        page_url(company), {"action": "upload_template", "template": upload(name, data)}
    )


def post_logo(client, company, data: bytes, name: str = "logo.png"):
    return client.post(page_url(company), {"action": "upload_logo", "logo": upload(name, data)})


def _export(memoir) -> docx.Document:
    job = export.queue_export(memoir.company, memoir.project, user=memoir.user, now=True)
    assert job.status == JobStatus.SUCCEEDED, job.error
    row = MemoirExport.objects.get(pk=job.result["export"])
    with default_storage.open(row.storage_path, "rb") as handle:
        return docx.Document(io.BytesIO(handle.read()))


def stored_files(company) -> list[str]:
    """Every file of the company's template and logo folders."""
    found = []
    for folder in ("word-template", "logo"):
        root = f"companies/{company.pk}/{folder}"
        stack = [root]
        while stack:
            current = stack.pop()
            if not default_storage.exists(current):
                continue
            dirs, files = default_storage.listdir(current)
            found += [f"{current}/{f}" for f in files]
            stack += [f"{current}/{d}" for d in dirs]
    return sorted(found)


# --- uploading, and the export using it ----------------------------------------------------


def test_an_admin_uploads_a_template_whose_styles_and_header_the_export_uses(
    generated, admin_user, django_capture_on_commit_callbacks
):
    client = french(admin_user)
    page = client.get(page_url(generated.company))
    assert page.status_code == 200
    assert "Modèle Word du mémoire" in text(page)
    assert "Aucun modèle : l’export utilise les styles par défaut de Word." in text(page)
    response = post_template(client, generated.company, template_bytes())
    assert response.status_code == 302
    page = text(client.get(response.url))
    assert "Le modèle Word « modele-entreprise.docx » est en place" in page
    assert "modele-entreprise.docx" in page and "Déposé le" in page and "Kio" in page
    generated.company.refresh_from_db()
    path = generated.company.settings["word_template"]
    assert path.startswith(f"companies/{generated.company.pk}/word-template/")
    assert stored_files(generated.company) == [path]

    document = _export(generated)
    assert document.sections[0].header.paragraphs[0].text == HEADER
    assert document.styles["Normal"].font.name == "Arial"
    assert document.styles["Heading 1"].font.name == "Georgia"
    headings = [p.text for p in document.paragraphs if p.style.name == "Heading 2"]
    assert "1.1 Méthodologie" in headings
    assert document.paragraphs[0].text == generated.project.name  # the body was empty

    entry = AuditLog.objects.get(action="company.word_template_set")
    assert entry.company_id == generated.company.pk and entry.user_id == admin_user.pk
    assert entry.resource_id == generated.company.pk
    assert entry.details["file"] == "modele-entreprise.docx"
    assert entry.details["size_bytes"] == len(template_bytes())

    # The template in place is downloaded through the page.
    download = client.get(
        reverse("admin:memoir_word_template_download", args=[generated.company.pk])
    )
    assert download.status_code == 200
    assert download["Content-Type"] == word_template.DOCX.mime_type
    body = b"".join(download.streaming_content)
    assert docx.Document(io.BytesIO(body)).sections[0].header.paragraphs[0].text == HEADER


def test_replacing_the_template_deletes_the_old_file_once_committed(
    company, admin_user, django_capture_on_commit_callbacks
):
    client = french(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        post_template(client, company, template_bytes("Premier"), "premier.docx")
    company.refresh_from_db()
    first = company.settings["word_template"]
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        post_template(client, company, template_bytes("Second"), "second.docx")
    assert len(callbacks) == 1
    company.refresh_from_db()
    second = company.settings["word_template"]
    assert second != first and second.endswith("/second.docx")
    assert stored_files(company) == [second]
    entry = AuditLog.objects.filter(action="company.word_template_set").latest("timestamp")
    assert entry.details["previous_file"] == "premier.docx"


def test_a_logo_uploaded_is_on_the_exported_cover(generated, admin_user):
    client = french(admin_user)
    response = post_logo(client, generated.company, PNG_2X1, "logo-bso.png")
    assert response.status_code == 302
    page = client.get(response.url)
    assert "Le logo « logo-bso.png » est en place" in text(page)
    assert reverse("admin:memoir_word_template_logo", args=[generated.company.pk]) in (
        page.content.decode()
    )
    generated.company.refresh_from_db()
    assert generated.company.logo_url.startswith(f"companies/{generated.company.pk}/logo/")
    image = client.get(reverse("admin:memoir_word_template_logo", args=[generated.company.pk]))
    assert image["Content-Type"] == "image/png" and b"".join(image.streaming_content) == PNG_2X1

    document = _export(generated)
    assert len(document.inline_shapes) == 1
    shape = document.inline_shapes[0]
    assert shape.width <= Cm(5) and shape.height <= Cm(3)
    # On the cover: before the first page break.
    body = document.element.body
    first_break = next(i for i, p in enumerate(document.paragraphs) if 'w:type="page"' in p._p.xml)
    assert any("graphicData" in p._p.xml for p in document.paragraphs[:first_break]), body.xml[
        :2000
    ]
    assert "Bâtiments du Sud-Ouest" in "\n".join(p.text for p in document.paragraphs[:first_break])
    entry = AuditLog.objects.get(action="company.logo_set")
    assert entry.details["file"] == "logo-bso.png"
    assert entry.details["changes"]["logo_url"]["new"] == generated.company.logo_url


def test_a_tall_logo_fits_the_box_of_the_cover(generated):
    word_template.set_logo(generated.company, upload("haut.png", PNG_1X4))
    shape = _export(generated).inline_shapes[0]
    assert shape.height == Cm(3) and shape.width < Cm(1)


# --- refusals ----------------------------------------------------------------------------------


def _zip(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return out.getvalue()


def _dotx() -> bytes:
    source = zipfile.ZipFile(io.BytesIO(template_bytes()))
    files = {i.filename: source.read(i.filename) for i in source.infolist()}
    files["[Content_Types].xml"] = files["[Content_Types].xml"].replace(
        b"document.main+xml", b"template.main+xml"
    )
    return _zip(files)


NOT_A_DOCUMENT = "Le modèle doit être un document Word (.docx) ; ce fichier n’en est pas un."
UNREADABLE = "Ce fichier ne peut pas être lu comme un document Word (.docx)"

REFUSED_TEMPLATES = {
    "a PDF renamed": (b"%PDF-1.7\n1 0 obj <<>> endobj\n%%EOF\n", NOT_A_DOCUMENT),
    "a text file renamed": ("Ceci n’est pas un document Word.\n".encode(), NOT_A_DOCUMENT),
    "a PNG renamed": (PNG_2X1, NOT_A_DOCUMENT),
    "a ZIP of other files": (_zip({"photo.txt": b"bonjour"}), NOT_A_DOCUMENT),
    "a spreadsheet renamed": (
        _zip({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>"}),
        NOT_A_DOCUMENT,
    ),
    "a damaged document": (
        _zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document"}),
        UNREADABLE,
    ),
    "a cut-off document": (template_bytes()[:-400], None),
    "a Word template (.dotx)": (_dotx(), "Ce fichier est un modèle Word (.dotx)"),
}


@pytest.mark.parametrize("case", sorted(REFUSED_TEMPLATES))
def test_a_file_that_is_no_word_document_is_refused_in_french_and_nothing_is_stored(
    company, admin_user, case
):
    data, message = REFUSED_TEMPLATES[case]
    before = dict(company.settings)
    response = post_template(french(admin_user), company, data, "modele.docx")
    assert response.status_code == 200
    page = text(response)
    if message is None:  # cut off: refused as not a document or as unreadable
        assert NOT_A_DOCUMENT in page or UNREADABLE in page, page
    else:
        assert message in page, page
    assert 'class="errorlist' in response.content.decode()
    company.refresh_from_db()
    assert company.settings == before
    assert stored_files(company) == []
    assert not AuditLog.objects.filter(action__startswith="company.").exists()


def test_an_empty_or_too_large_template_is_refused(company, admin_user, settings):
    client = french(admin_user)
    assert "Ce champ est obligatoire." in text(
        client.post(page_url(company), {"action": "upload_template"})
    )
    assert "Le fichier soumis est vide." in text(post_template(client, company, b""))
    settings.WORD_TEMPLATE_MAX_BYTES = 1000
    page = text(post_template(client, company, template_bytes()))
    assert "Le fichier est trop volumineux" in page
    assert stored_files(company) == []


@pytest.mark.parametrize(
    "data",
    [b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", b"%PDF-1.4\n%%EOF", template_bytes()],
    ids=["gif", "pdf", "docx"],
)
def test_a_logo_that_is_no_png_or_jpeg_is_refused(company, admin_user, data):
    response = post_logo(french(admin_user), company, data, "logo.png")
    assert response.status_code == 200
    assert "Le logo doit être une image PNG ou JPEG ; ce fichier n’en est pas une." in text(
        response
    )
    company.refresh_from_db()
    assert company.logo_url is None and stored_files(company) == []
    assert not AuditLog.objects.filter(action__startswith="company.").exists()


def test_a_damaged_png_is_refused(company, admin_user):
    response = post_logo(french(admin_user), company, PNG_2X1[:20], "logo.png")
    assert "Cette image ne peut pas être lue" in text(response)
    assert stored_files(company) == []


# --- who may do what -------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.USER, Role.VIEWER])
def test_users_and_viewers_read_the_page_but_cannot_change_it(company, admin_user, role):
    word_template.set_template(company, upload("modele.docx", template_bytes()))
    member = french(UserFactory(company=company, role=role))
    page = member.get(page_url(company))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Seuls les administrateurs de l’entreprise peuvent modifier" in text(page)
    assert 'id="template-form"' not in html and 'id="logo-form"' not in html
    assert "modele.docx" in text(page)
    download = reverse("admin:memoir_word_template_download", args=[company.pk])
    assert member.get(download).status_code == 200
    company.refresh_from_db()
    before = (dict(company.settings), company.logo_url, stored_files(company))
    for data in (
        {"action": "upload_template", "template": upload("autre.docx", template_bytes("X"))},
        {"action": "upload_logo", "logo": upload("logo.png", PNG_2X1)},
        {"action": "remove_template"},
        {"action": "remove_logo"},
    ):
        response = member.post(page_url(company), data)
        assert response.status_code == 403
        assert "Accès refusé" in text(response) or "refusé" in text(response)
    company.refresh_from_db()
    assert (dict(company.settings), company.logo_url, stored_files(company)) == before
    assert AuditLog.objects.filter(action__startswith="company.").count() == 1


def test_another_companys_admin_gets_the_answer_of_a_missing_company(company, admin_user):
    word_template.set_template(company, upload("modele.docx", template_bytes()))
    word_template.set_logo(company, upload("logo.png", PNG_2X1))
    stranger_company = CompanyFactory()
    stranger = french(UserFactory(company=stranger_company, role=Role.ADMIN))
    missing = uuid.UUID("00000000-0000-0000-0000-000000000000")
    for name in (
        "memoir_word_template_company",
        "memoir_word_template_download",
        "memoir_word_template_logo",
        "memoir_word_template_starter",
    ):
        theirs = stranger.get(reverse(f"admin:{name}", args=[company.pk]))
        unknown = stranger.get(reverse(f"admin:{name}", args=[missing]))
        assert theirs.status_code == unknown.status_code == 404, name
        assert text(theirs) == text(unknown)
    response = stranger.post(
        page_url(company),
        {"action": "upload_template", "template": upload("x.docx", template_bytes("Pirate"))},
    )
    assert response.status_code == 404
    assert stranger.post(page_url(company), {"action": "remove_template"}).status_code == 404
    company.refresh_from_db()
    assert company.settings["word_template"].endswith("/modele.docx")
    assert len(stored_files(company)) == 2
    # Their own menu entry opens their own company.
    response = stranger.get(reverse("admin:memoir_word_template"))
    assert response.status_code == 302 and response.url == page_url(stranger_company)
    assert "Aucun modèle" in text(stranger.get(response.url))


def test_a_platform_superuser_chooses_the_company_and_changes_it(company):
    superuser = french(SuperuserFactory(full_name="Opératrice Plateforme"))
    chooser = superuser.get(reverse("admin:memoir_word_template"))
    assert chooser.status_code == 200
    assert page_url(company) in chooser.content.decode()
    assert company.name in text(superuser.get(reverse("admin:memoir_word_template") + "?q=Sud"))
    assert (
        page_url(company)
        not in superuser.get(reverse("admin:memoir_word_template") + "?q=zzzz").content.decode()
    )
    assert post_template(superuser, company, template_bytes()).status_code == 302
    company.refresh_from_db()
    assert company.settings["word_template"].startswith(f"companies/{company.pk}/")
    entry = AuditLog.objects.get(action="company.word_template_set")
    assert entry.company_id == company.pk


def test_services_take_the_company_and_fail_closed():
    with pytest.raises(CompanyRequired):
        word_template.set_template(None, upload("modele.docx", template_bytes()))
    with pytest.raises(CompanyRequired):
        word_template.remove_logo("")
    with pytest.raises(Company.DoesNotExist):
        word_template.current(uuid.uuid4())


def test_a_path_outside_the_companys_folder_is_neither_read_nor_deleted(
    company, admin_user, django_capture_on_commit_callbacks
):
    other = default_storage.save(
        f"companies/{CompanyFactory().pk}/logo/x/logo.png", ContentFile(PNG_2X1)
    )
    company.logo_url = other
    company.save()
    client = french(admin_user)
    assert "Aucun logo" in text(client.get(page_url(company)))
    logo = reverse("admin:memoir_word_template_logo", args=[company.pk])
    assert client.get(logo).status_code == 404
    with django_capture_on_commit_callbacks(execute=True):
        client.post(page_url(company), {"action": "remove_logo"})
    company.refresh_from_db()
    assert company.logo_url is None
    assert default_storage.exists(other)


def test_replacing_a_logo_typed_by_hand_keeps_the_library_file_it_named(
    company, admin_user, django_capture_on_commit_callbacks
):
    """Before this page the logo was a path typed in the company form: one naming a
    library file is read, but replacing the logo does not delete that file."""
    library_image = default_storage.save(
        f"companies/{company.pk}/files/ab/abc/logo.png", ContentFile(PNG_2X1)
    )
    company.logo_url = library_image
    company.save()
    with django_capture_on_commit_callbacks(execute=True):
        post_logo(french(admin_user), company, png(4, 2), "nouveau-logo.png")
    company.refresh_from_db()
    assert company.logo_url.startswith(f"companies/{company.pk}/logo/")
    assert default_storage.exists(library_image)


def test_the_company_form_keeps_the_template_the_page_set(company, admin_user):
    """The settings box of the company form, opened before an upload or typed by hand,
    neither drops the template's path nor points it at another file."""
    from tests.admin_helpers import change_form

    client = french(admin_user)
    _response, data = change_form(client, company)
    post_template(client, company, template_bytes("Modèle"), "modele.docx")
    company.refresh_from_db()
    uploaded = company.settings["word_template"]
    data["settings"] = '{"generation_budget": {"cost_usd": 80}}'  # the form opened before
    response = client.post(reverse("admin:tenants_company_change", args=[company.pk]), data)
    assert response.status_code == 302
    company.refresh_from_db()
    assert company.settings["word_template"] == uploaded
    assert company.settings["generation_budget"] == {"cost_usd": 80}
    data["settings"] = f'{{"word_template": "companies/{company.pk}/files/x/autre.docx"}}'
    client.post(reverse("admin:tenants_company_change", args=[company.pk]), data)
    company.refresh_from_db()
    assert company.settings["word_template"] == uploaded


# --- removal ---------------------------------------------------------------------------------


def test_removal_restores_the_default_export(
    generated, admin_user, django_capture_on_commit_callbacks
):
    client = french(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        post_template(client, generated.company, template_bytes())
        post_logo(client, generated.company, PNG_2X1)
    assert len(stored_files(generated.company)) == 2
    page = client.get(page_url(generated.company)).content.decode()
    assert 'id="template-remove"' in page and 'id="logo-remove"' in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(page_url(generated.company), {"action": "remove_template"})
        client.post(page_url(generated.company), {"action": "remove_logo"})
    page = text(client.get(response.url))
    assert "Le modèle Word a été retiré" in page and "Le logo a été retiré" in page
    assert "Aucun modèle" in page and "Aucun logo" in page
    generated.company.refresh_from_db()
    assert "word_template" not in generated.company.settings
    assert generated.company.logo_url is None
    assert stored_files(generated.company) == []
    document = _export(generated)
    assert document.sections[0].header.paragraphs[0].text == ""
    assert document.styles["Normal"].font.name is None
    assert len(document.inline_shapes) == 0
    assert AuditLog.objects.filter(action="company.word_template_remove").count() == 1
    assert AuditLog.objects.filter(action="company.logo_remove").count() == 1
    # Nothing left to remove: said, not audited.
    response = client.post(page_url(generated.company), {"action": "remove_template"})
    assert "Il n’y avait rien à retirer." in text(client.get(response.url))
    assert AuditLog.objects.filter(action="company.word_template_remove").count() == 1


# --- the audit trail -------------------------------------------------------------------------


def test_every_change_reads_as_a_french_sentence_in_the_audit_trail(company, admin_user):
    company.name = "Bâtisseurs Réunis"
    company.save()
    client = french(admin_user)
    post_template(client, company, template_bytes(), "modele.docx")
    post_logo(client, company, PNG_2X1)
    client.post(page_url(company), {"action": "remove_template"})
    client.post(page_url(company), {"action": "remove_logo"})
    page = text(client.get(reverse("admin:audit_auditlog_changelist")))
    for sentence in (
        "Claire Martin a déposé un nouveau modèle Word pour l’entreprise « Bâtisseurs Réunis »",
        "Claire Martin a retiré le modèle Word de l’entreprise « Bâtisseurs Réunis »",
        "Claire Martin a déposé un nouveau logo pour l’entreprise « Bâtisseurs Réunis »",
        "Claire Martin a retiré le logo de l’entreprise « Bâtisseurs Réunis »",
    ):
        assert sentence in page, page
    entry = AuditLog.objects.get(action="company.word_template_set")
    detail = text(client.get(reverse("admin:audit_auditlog_change", args=[entry.pk])))
    assert "Fichier modele.docx" in detail and "Taille (octets)" in detail
    # The action filter names the new actions.
    assert "Dépôt du modèle Word" in page and "Retrait du logo" in page


# --- the starter template, the menu and the project page ------------------------------------


def test_the_starter_template_goes_back_and_forth_without_its_samples(generated, admin_user):
    client = french(admin_user)
    response = client.get(
        reverse("admin:memoir_word_template_starter", args=[generated.company.pk])
    )
    assert response.status_code == 200
    assert response["Content-Type"] == word_template.DOCX.mime_type
    assert "attachment" in response["Content-Disposition"]
    starter = docx.Document(io.BytesIO(response.content))
    assert word_template.missing_styles(starter) == []
    assert generated.company.name in starter.sections[0].header.paragraphs[0].text
    assert 'instr="PAGE"' in starter.sections[0].footer._element.xml
    samples = [p.text for p in starter.paragraphs]
    assert "Nom du projet" in samples and any(t.startswith("Exemple") for t in samples)
    # Restyled in Word, uploaded back: its styles and header, none of its samples.
    starter.styles["Heading 1"].font.name = "Verdana"
    out = io.BytesIO()
    starter.save(out)
    assert post_template(client, generated.company, out.getvalue()).status_code == 302
    assert "ne contient pas ces styles" not in text(client.get(page_url(generated.company)))
    document = _export(generated)
    texts = [p.text for p in document.paragraphs]
    assert texts[0] == generated.project.name
    assert "Nom du projet" not in texts and not any(t.startswith("Exemple") for t in texts)
    cells = {c.text for t in document.tables for r in t.rows for c in r.cells}
    assert "Marc Dubois" in cells and "Camille Durand" not in cells
    assert document.styles["Heading 1"].font.name == "Verdana"
    assert generated.company.name in document.sections[0].header.paragraphs[0].text


def test_a_template_without_the_export_styles_is_flagged(company, admin_user):
    document = docx.Document()
    styles = document.styles
    for name in ("List Bullet", "Table Grid"):
        styles[name].element.getparent().remove(styles[name].element)
    out = io.BytesIO()
    document.save(out)
    client = french(admin_user)
    response = post_template(client, company, out.getvalue())
    page = text(client.get(response.url))
    assert "Le modèle ne contient pas ces styles" in page
    assert "Liste à puces, Grille du tableau" in page


def test_the_company_menu_and_the_project_page_lead_to_it(generated, admin_user):
    client = french(admin_user)
    index = client.get(reverse("admin:index"))
    menus = {
        str(m["name"]): [str(x["name"]) for x in m["models"]] for m in index.context["app_list"]
    }
    assert "Modèle Word du mémoire" in menus["Entreprise"]
    assert reverse("admin:memoir_word_template") in index.content.decode()
    project = client.get(reverse("admin:projects_project_change", args=[generated.project.pk]))
    assert page_url(generated.company) in project.content.decode()
    company_page = client.get(reverse("admin:tenants_company_change", args=[generated.company.pk]))
    assert page_url(generated.company) in company_page.content.decode()
    # A viewer sees the entry as a page to read.
    viewer = french(UserFactory(company=generated.company, role=Role.VIEWER))
    html = viewer.get(reverse("admin:index")).content.decode()
    assert reverse("admin:memoir_word_template") in html
    assert 'class="viewlink" aria-describedby="company-wordtemplate"' in html


@pytest.mark.parametrize("role", ["admin", "user", "viewer", "superuser"])
def test_the_page_reads_as_french_with_everything_in_place(company, role):
    from tests.test_admin_french_pages import _slugs, problems

    document = docx.Document()
    document.styles["Table Grid"].element.getparent().remove(document.styles["Table Grid"].element)
    out = io.BytesIO()
    document.save(out)
    word_template.set_template(company, upload("modele.docx", out.getvalue()))
    word_template.set_logo(company, upload("logo.png", PNG_2X1))
    client = french(
        SuperuserFactory() if role == "superuser" else UserFactory(company=company, role=role)
    )
    slugs = _slugs()
    pages = [client.get(page_url(company)), client.get(reverse("admin:memoir_word_template"))]
    if role in ("admin", "superuser"):
        pages.append(post_template(client, company, b"%PDF-1.4\n%%EOF", "faux.docx"))
        pages.append(post_logo(client, company, b"GIF89a;", "logo.gif"))
    pages = [p if p.status_code != 302 else client.get(p.url) for p in pages]
    for response in pages:
        assert response.status_code == 200
        assert problems(response.content.decode(), slugs) == []
    html = pages[0].content.decode()
    assert "Grille du tableau" in html and "Fichier" in html and "Déposé le" in html
