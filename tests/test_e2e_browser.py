"""End to end, in a real browser: a *user* edits a content block in the admin and sees
its new version; a *viewer* opens the same block and finds nothing to save.

Playwright (the ``playwright`` package, dev extra) drives Debian's Chromium at
/usr/bin/chromium (``.ci/run`` installs it); Playwright never downloads a browser of
its own here. The test is skipped without Chromium, except when ``CI`` is set: then it
fails, so that a CI run can't pass without having run it.

The pages are served by pytest-django's live server (a thread of this process, so the
``settings`` fixture reaches it). The demo users log in with the demo password,
which the login backend only accepts with ``DEBUG`` on.
"""

from __future__ import annotations

import os
import re
import tempfile
import time
from pathlib import Path

import pytest
from django.core.management import call_command

from library.models import ContentBlock

CHROMIUM = Path(os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium"))
# Headless, and nothing that reaches out to the (closed) network on start-up.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: Where the screenshots of the block, as the user and the viewer see it, are saved.
SCREENSHOTS = Path(os.environ.get("E2E_SCREENSHOT_DIR", tempfile.gettempdir()))
TIMEOUT_MS = 20_000

DEMO_PASSWORD = "password123"
USER = "user@enpyco.com"
VIEWER = "viewer@enpyco.com"
BLOCK_TITLE = "Présentation de l'entreprise Enpyco"


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _unavailable(reason: str):
    """Fail in CI, skip elsewhere."""
    if _in_ci():
        pytest.fail(f"{reason} (CI is set, so this is a failure, not a skip)", pytrace=False)
    pytest.skip(reason)


def _chromium() -> str:
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        _unavailable(f"no Chromium at {CHROMIUM}: apt-get install chromium (as .ci/run does)")
    return str(CHROMIUM)


def _sync_playwright():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is missing: pip install -e '.[dev]'")
    return sync_playwright


# The pages are served by another thread: the data is committed.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def demo_site(settings):
    """The demo data behind a live server on which the demo password works.

    This is pytest-django's live server (``LiveServer``, what its session-wide
    ``live_server`` fixture starts), started for this test only, *after* the settings
    below: Django's live server wraps every request in a media-files handler built from
    ``MEDIA_URL`` when the server starts, and breaks on every request (TypeError in
    ``_MediaFilesHandler._should_handle``) while the project has ``MEDIA_URL = None``.
    """
    from pytest_django.live_server_helper import LiveServer

    settings.DEBUG = True  # the demo password is refused with DEBUG off
    # http://localhost: the cookies must not require HTTPS (they do with DEBUG off).
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    if not isinstance(settings.MEDIA_URL, str) or not settings.MEDIA_URL:
        settings.MEDIA_URL = "/e2e-media-not-served/"
    host = "localhost"
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, host]
    call_command("loaddata", "demo", verbosity=0)
    server = LiveServer(host)
    try:
        yield server.url
    finally:
        server.stop()


def _log_in(page, base_url: str, email: str, next_path: str) -> None:
    page.goto(f"{base_url}/admin/login/?next={next_path}")
    page.fill("#id_username", email)
    page.fill("#id_password", DEMO_PASSWORD)
    with page.expect_navigation():
        page.click("#login-form [type=submit]")
    assert not page.locator("#login-form").count(), f"{email} could not log in"


def _shown_version(page) -> int:
    return int(page.locator(".field-version .readonly").inner_text().strip())


def test_user_edits_a_block_and_viewer_cannot_save(demo_site):
    chromium = _chromium()
    sync_playwright = _sync_playwright()
    from playwright.sync_api import expect

    # All database work happens outside Playwright's event loop (Django refuses sync
    # queries inside one); the live server answers from its own thread.
    block = ContentBlock.objects.get(title=BLOCK_TITLE)
    before = block.version
    new_content = f"{block.content}\n\nMise à jour de bout en bout ({time.time_ns()})."
    changelist = "/admin/library/contentblock/"
    change_path = f"{changelist}{block.pk}/change/"

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        try:
            # --- a *user* edits the block ------------------------------------------
            # A French browser: the admin follows Accept-Language (LocaleMiddleware).
            user = browser.new_context(locale="fr-FR")
            user.set_default_timeout(TIMEOUT_MS)
            page = user.new_page()
            _log_in(page, demo_site, USER, changelist)
            expect(page).to_have_url(re.compile(re.escape(changelist) + r"$"))

            results = page.locator("#result_list")
            results.get_by_role("link", name=BLOCK_TITLE, exact=True).click()
            expect(page).to_have_url(re.compile(re.escape(change_path) + r"$"))
            assert _shown_version(page) == before

            page.fill("#id_content", new_content)
            page.get_by_role("button", name="Enregistrer", exact=True).click()

            # Back on the changelist, with the success message and the new version.
            expect(page).to_have_url(re.compile(re.escape(changelist) + r"$"))
            expect(page.locator(".messagelist .success")).to_contain_text(
                f"Modifications enregistrées : bloc de contenu « {BLOCK_TITLE} »"
            )
            row = results.locator("tbody tr", has_text=BLOCK_TITLE)
            expect(row.locator(".field-version")).to_have_text(str(before + 1))

            # The block page shows the new version and the new content.
            row.get_by_role("link", name=BLOCK_TITLE, exact=True).click()
            expect(page).to_have_url(re.compile(re.escape(change_path) + r"$"))
            assert _shown_version(page) == before + 1
            expect(page.locator("#id_content")).to_have_value(new_content)
            expect(page.locator("html")).to_have_attribute("lang", "fr")
            page.screenshot(path=SCREENSHOTS / "e2e_content_block_user.png", full_page=True)
            user.close()

            # --- a *viewer* opens the same block: read-only ----------------------
            viewer = browser.new_context(locale="fr-FR")
            viewer.set_default_timeout(TIMEOUT_MS)
            page = viewer.new_page()
            _log_in(page, demo_site, VIEWER, change_path)
            expect(page).to_have_url(re.compile(re.escape(change_path) + r"$"))
            main = page.locator("#content-main")
            expect(main).to_contain_text("Mise à jour de bout en bout")
            assert _shown_version(page) == before + 1
            assert page.get_by_role("button", name=re.compile("Enregistrer")).count() == 0
            assert main.locator("[type=submit]").count() == 0
            assert page.locator("[name=_save], [name=_continue]").count() == 0
            assert page.locator("[name=content], #id_content").count() == 0
            expect(main).not_to_contain_text("Enregistrer")
            page.screenshot(path=SCREENSHOTS / "e2e_content_block_viewer.png", full_page=True)
            viewer.close()
        finally:
            browser.close()

    block.refresh_from_db()
    assert block.version == before + 1
    # Browsers submit a textarea's line breaks as CRLF, which the form keeps.
    assert block.content.replace("\r\n", "\n") == new_content


def test_user_uploads_a_memoir_and_watches_the_worker_index_it(demo_site, settings, tmp_path):
    """The upload answers at once with the memoir queued; a worker (procrastinate's,
    in a thread of this process) indexes it while the page shows the progress and then
    the indexed passages, without the user reloading."""
    import threading

    from rag.models import DocumentChunk, Memoire
    from tests.documents import make_pdf
    from tests.jobs_support import run_worker

    chromium = _chromium()
    sync_playwright = _sync_playwright()
    from playwright.sync_api import expect

    settings.RAG_EMBEDDING_BACKEND = "tests.fake_embeddings.HashingBackend"
    settings.RAG_EMBEDDING_OPTIONS = {}
    settings.MEDIA_ROOT = str(tmp_path / "media")
    document = tmp_path / "Mémoire gymnase Albi.pdf"
    document.write_bytes(
        make_pdf(
            [
                ["SÉCURITÉ", "Le PPSPS décrit les mesures de prévention."],
                ["PLANNING", "Trois phases."],
            ]
        )
    )
    before = set(Memoire.objects.values_list("pk", flat=True))

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(locale="fr-FR")
            context.set_default_timeout(TIMEOUT_MS)
            page = context.new_page()
            _log_in(page, demo_site, USER, "/admin/rag/memoire/add/")
            page.set_input_files("#id_document", str(document))
            page.fill("#id_client", "Ville d'Albi")
            started = time.perf_counter()
            page.get_by_role("button", name="Enregistrer et continuer les modifications").click()
            expect(page.locator(".messagelist")).to_contain_text("en attente d’indexation")
            answered = time.perf_counter() - started
            progress = page.locator(".field-index_status .job-progress")
            expect(progress).to_contain_text("En attente")
            page.screenshot(path=SCREENSHOTS / "e2e_memoir_queued.png", full_page=True)

            worker = threading.Thread(target=run_worker, daemon=True)
            worker.start()
            # The page polls the job and reloads itself once it is done.
            expect(page.locator(".field-index_status")).to_contain_text(
                "2 passages", timeout=60_000
            )
            page.screenshot(path=SCREENSHOTS / "e2e_memoir_indexed.png", full_page=True)
            worker.join(30)
            context.close()
        finally:
            browser.close()

    (memoire,) = Memoire.objects.exclude(pk__in=before)
    assert memoire.filename == "Mémoire gymnase Albi.pdf" and memoire.indexed
    assert DocumentChunk.objects.filter(memoire=memoire).count() == 2
    assert answered < 10  # the request only stored the file (the job is not run in it)


def test_user_uploads_an_rc_reviews_its_criteria_and_the_project_is_analysed(
    demo_site, settings, tmp_path
):
    """The issue's "done when": a user uploads an RC PDF on a new project, watches the
    analysis run (a real worker, in a thread), opens the criteria tree with its weights
    and sources, corrects one weight, saves, and the project shows "RC analysé" with its
    deadline and lot filled."""
    import threading

    from projects.models import Project, ProjectStatus, RCAnalysis
    from projects.rc import evaluation, storage
    from tests.jobs_support import run_worker

    chromium = _chromium()
    sync_playwright = _sync_playwright()
    from playwright.sync_api import expect

    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.LLM_PROVIDER = ""
    rc = tmp_path / "RC Anglet – lot 2 éclairage.pdf"
    rc.write_bytes((evaluation.CORPUS / "17-tableau-aplati.pdf").read_bytes())
    name = "Requalification de l'avenue de l'Adour"

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(locale="fr-FR")
            context.set_default_timeout(TIMEOUT_MS)
            page = context.new_page()
            _log_in(page, demo_site, USER, "/admin/projects/project/add/")
            page.fill("#id_name", name)
            page.set_input_files("#id_rc_document", str(rc))
            page.get_by_role("button", name="Enregistrer et continuer les modifications").click()
            expect(page.locator(".messagelist")).to_contain_text("en attente d’analyse")
            panel = page.locator(".field-rc_analysis_panel")
            expect(panel.locator(".job-progress")).to_contain_text("En attente")
            page.screenshot(path=SCREENSHOTS / "e2e_rc_queued.png", full_page=True)

            worker = threading.Thread(target=run_worker, daemon=True)
            worker.start()
            # The bar polls the job and reloads the page once the analysis is written.
            expect(panel).to_contain_text("Relire l’analyse", timeout=60_000)
            expect(panel.locator(".rc-criteria-summary")).to_contain_text("Valeur technique")
            expect(panel.locator(".rc-criteria-summary")).to_contain_text("55 %")
            worker.join(30)

            panel.get_by_role("link", name="Relire l’analyse").click()
            expect(page.locator("h1")).to_contain_text("Relecture de l’analyse du RC")
            row = page.locator('tr[data-id="C1.1"]')
            expect(row.locator('input[name$="-name"]')).to_have_value(
                "organisation et méthodologie"
            )
            expect(row.locator('input[name$="-weight"]')).to_have_value("30")
            expect(row.locator(".rc-source")).to_contain_text("organisation et méthodologie 30 %")
            expect(page.locator('tr[data-id="C2"] input[name$="-weight"]')).to_have_value("45")
            expect(page.locator(".field-deadline")).to_contain_text("Page 1")
            page.screenshot(path=SCREENSHOTS / "e2e_rc_review.png", full_page=True)

            row.locator('input[name$="-weight"]').fill("25")
            page.locator('input[name="_save"]').click()
            expect(page.locator(".messagelist .success")).to_contain_text("a été enregistrée")
            expect(page.locator(".field-status")).to_contain_text("RC analysé")
            expect(page.locator("#id_deadline_0")).to_have_value("19/09/2025")
            expect(page.locator("#id_deadline_1")).to_have_value("12:00:00")
            expect(page.locator("#id_lot")).to_have_value("Lot 2 – Éclairage public")
            # 25 + 15 + 10 no longer make the 55 of "Valeur technique": the page says so.
            expect(page.locator(".field-rc_analysis_panel .warning")).to_contain_text("50")
            page.screenshot(path=SCREENSHOTS / "e2e_rc_analysed.png", full_page=True)
            context.close()
        finally:
            browser.close()

    project = Project.objects.get(name=name)
    assert project.status == ProjectStatus.RC_ANALYZED
    assert project.lot == "Lot 2 – Éclairage public" and project.client == "Commune d'Anglet"
    stored = storage.from_row(RCAnalysis.objects.get(project=project))
    first = stored.criteria[0].subcriteria[0]
    assert (first.id, first.weight, first.corrected) == ("C1.1", 25, True)


def test_user_edits_a_cvs_qualifications_and_sees_its_validity(demo_site):
    """A *user* gives the demo CV two qualifications with their dates — one kept and
    re-dated in French words, one added as a new row — removes the others, saves, and
    reads the CV's validity (the earliest expiry) in the list and on the page. No
    JSON is typed anywhere."""
    import datetime

    from django.utils import timezone

    chromium = _chromium()
    sync_playwright = _sync_playwright()
    from playwright.sync_api import expect

    months = "janvier février mars avril mai juin juillet août septembre octobre novembre décembre"
    soon = timezone.localdate() + datetime.timedelta(days=45)
    later = timezone.localdate() + datetime.timedelta(days=800)
    soon_text = f"{soon.day} {months.split()[soon.month - 1]} {soon.year}"
    block = ContentBlock.objects.get(type="person-cv")
    changelist = "/admin/library/contentblock/"
    change_path = f"{changelist}{block.pk}/change/"
    row = "#id_person-cv-qualifications-{}-{}"

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(locale="fr-FR")
            context.set_default_timeout(TIMEOUT_MS)
            page = context.new_page()
            _log_in(page, demo_site, USER, change_path)
            expect(page).to_have_url(re.compile(re.escape(change_path) + r"$"))
            facts = page.locator('.block-facts[data-block-type="person-cv"]')
            expect(facts).to_be_visible()
            expect(page.locator('.block-facts[data-block-type="equipment"]')).to_be_hidden()
            assert page.locator("textarea[name=metadata]").count() == 0
            expect(facts).to_contain_text("Qualifications")

            # The SST stays, obtained and expiring on dates written in French.
            expect(page.locator(row.format(0, "kind"))).to_have_value("sst")
            page.fill(row.format(0, "obtained_on"), "14 octobre 2024")
            page.fill(row.format(0, "expires_on"), soon_text)
            # The two other rows go.
            page.check(row.format(1, "DELETE"))
            page.check(row.format(2, "DELETE"))
            # A CACES is added in a new row (row 3 is the blank one offered).
            facts.get_by_role("button", name="Ajouter une ligne").click()
            page.select_option(row.format(4, "kind"), label="CACES")
            page.fill(row.format(4, "label"), "R482 cat. A")
            page.fill(row.format(4, "obtained_on"), "12/01/2024")
            page.fill(row.format(4, "expires_on"), later.strftime("%d/%m/%Y"))
            page.screenshot(path=SCREENSHOTS / "e2e_cv_facts_edit.png", full_page=True)
            page.get_by_role("button", name="Enregistrer", exact=True).click()

            # The list shows the CV expiring with its SST.
            expect(page).to_have_url(re.compile(re.escape(changelist) + r"$"))
            expect(page.locator(".messagelist .success")).to_contain_text(
                "Modifications enregistrées"
            )
            line = page.locator("#result_list tbody tr", has_text="Marc Dubois")
            validity = line.locator(".field-validity")
            expect(validity).to_contain_text(f"expire le {soon.strftime('%d/%m/%Y')}")
            expect(validity.locator(".validity")).to_have_attribute("title", re.compile("SST"))

            # The CV page shows the two rows with their dates and what decides.
            line.get_by_role("link").first.click()
            expect(page).to_have_url(re.compile(re.escape(change_path) + r"$"))
            expect(page.locator(".field-validity_detail")).to_contain_text(
                "échéance la plus proche : Sauveteur secouriste du travail (SST)"
            )
            expect(page.locator(row.format(0, "expires_on"))).to_have_value(
                soon.strftime("%d/%m/%Y")
            )
            expect(page.locator(row.format(1, "label"))).to_have_value("R482 cat. A")
            page.screenshot(path=SCREENSHOTS / "e2e_cv_facts_saved.png", full_page=True)
            context.close()
        finally:
            browser.close()

    block.refresh_from_db()
    assert [
        (q["kind"], q.get("expires_on"), q["mandatory"]) for q in block.metadata["qualifications"]
    ] == [("sst", soon.isoformat(), True), ("caces", later.isoformat(), True)]
    assert block.valid_until == soon
    assert block.metadata["diplomas"]  # the rest of the CV is as it was


def test_user_generates_reviews_exports_downloads_and_submits_the_memoir(
    demo_site, settings, tmp_path
):
    """Issue 15's flow in the browser, from the demo project (its RC analysed, its
    content matched and partly approved): generate with a real worker, review every
    section, export, download the DOCX and read its headings, a fact table and a
    section's text, submit, and find the sections read-only."""
    import io
    import threading

    import docx

    from projects.models import Project, ProjectStatus, Section
    from tests.jobs_support import run_worker

    chromium = _chromium()
    sync_playwright = _sync_playwright()
    from playwright.sync_api import expect

    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.GENERATION_BACKEND = "assembly"
    project = Project.objects.get(name="Réhabilitation et extension du collège Louis-Pasteur")
    project_path = f"/admin/projects/project/{project.pk}/change/"

    def work():
        worker = threading.Thread(target=run_worker, daemon=True)
        worker.start()
        return worker

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(locale="fr-FR")
            context.set_default_timeout(TIMEOUT_MS)
            page = context.new_page()
            _log_in(page, demo_site, USER, project_path)
            panel = page.locator("#memoir-panel")
            expect(panel.locator('[data-step="matching"]')).to_have_attribute("data-state", "done")

            # Generate: queued, then written by the worker; the page reloads when done.
            page.locator('#memoir-panel button[name="generate"]').click()
            expect(page.locator(".field-status")).to_contain_text("Génération en cours")
            worker = work()
            expect(page.locator(".field-status")).to_contain_text("Généré", timeout=60_000)
            worker.join(30)
            expect(panel.locator("tr.memoir-section")).to_have_count(6)
            page.screenshot(path=SCREENSHOTS / "e2e_memoir_generated.png", full_page=True)

            # Review: to "in review", every section marked reviewed, then "completed".
            page.locator('input[name="target"][value="reviewing"] + button').click()
            expect(page.locator(".field-status")).to_contain_text("En relecture")
            page.goto(f"{demo_site}/admin/projects/section/?project__id__exact={project.pk}")
            page.locator("#action-toggle").check()
            page.select_option('select[name="action"]', "mark_reviewed")
            page.locator('button[name="index"]').click()
            expect(page.locator(".messagelist .success")).to_be_visible()
            page.goto(f"{demo_site}{project_path}")
            expect(panel.locator(".memoir-to-review")).to_have_count(0)
            page.locator('input[name="target"][value="completed"] + button').click()
            expect(page.locator(".field-status")).to_contain_text("Terminé")

            # Export, then download through the admin.
            page.locator('#memoir-panel button[name="export"]').click()
            worker = work()
            link = panel.locator(".memoir-exports a").first
            expect(link).to_be_visible(timeout=60_000)
            worker.join(30)
            download = page.request.get(f"{demo_site}{link.get_attribute('href')}")
            assert download.ok
            body = download.body()

            # Submit: the sections are read-only.
            page.locator('input[name="target"][value="submitted"] + button').click()
            expect(page.locator(".field-status")).to_contain_text("Remis")
            expect(panel.locator(".memoir-frozen")).to_be_visible()
            panel.locator("tr.memoir-section a").first.click()
            expect(page.locator("#section_form")).to_be_visible()
            expect(page.locator('textarea[name="content"]')).to_have_count(0)
            expect(page.locator('input[name="_save"]')).to_have_count(0)
            page.screenshot(path=SCREENSHOTS / "e2e_memoir_submitted.png", full_page=True)
            context.close()
        finally:
            browser.close()

    document = docx.Document(io.BytesIO(body))
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert "2. Moyens humains affectés à l'opération" in headings
    tables = [[[c.text for c in row.cells] for row in t.rows] for t in document.tables]
    assert any("Conducteur de travaux" in row[1] for t in tables for row in t[1:])
    section = Section.objects.get(project=project, section_type="RS-02")
    first_line = section.content.split("\n")[0]
    assert any(p.text == first_line for p in document.paragraphs)
    project.refresh_from_db()
    assert project.status == ProjectStatus.SUBMITTED
    assert project.exports.filter(submitted=True).count() == 1
