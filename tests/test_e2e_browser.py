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


def _proposal(page, requirement: str, title: str):
    """The approval page's row proposing ``title`` for ``requirement`` (the rows follow
    their requirement's heading row)."""
    head = (
        f"preceding-sibling::tr[contains(@class, 'requirement-head')][1][@id='req-{requirement}']"
    )
    return page.locator(
        f"xpath=//tr[contains(@class, 'match-row')][{head}][contains(., \"{title}\")]"
    )


def test_user_takes_a_new_tender_from_its_rc_to_the_submitted_memoir(demo_site, settings, tmp_path):
    """Issue 15's "done when", all in the browser as the demo user, from a new project:
    upload the RC, a worker analyses it; run the matching from the project page, approve
    proposals one click per row and watch the coverage by points rise on the project
    page; generate, review every section, complete, export, download the Word document
    through its authenticated link and read its headings, a fact table and a section's
    text; submit, and find the sections read-only."""
    import io
    import threading

    import docx

    from projects.management.commands.load_demo_rc import RC_FILE
    from projects.models import Project, ProjectStatus, Section
    from tests.jobs_support import run_worker

    chromium = _chromium()
    sync_playwright = _sync_playwright()
    from playwright.sync_api import expect

    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.LLM_PROVIDER = ""
    settings.GENERATION_BACKEND = "assembly"
    # The demo's RC (scripts/serve-demo's load_demo_rc): the demo library answers its
    # criteria (a methodology, the CV of a site manager, a tower crane).
    rc = tmp_path / "RC salle multisports.pdf"
    rc.write_bytes(RC_FILE.read_bytes())
    name = "Salle multisports de Saint-Aubin-du-Cormier"
    cv = "CV — Marc Dubois, conducteur de travaux principal"
    crane = "Grues à tour Potain MDT 219 J10"
    method = "Méthodologie type — gros œuvre d'un bâtiment en béton armé"

    def work():
        worker = threading.Thread(target=run_worker, daemon=True)
        worker.start()
        return worker

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(locale="fr-FR", accept_downloads=True)
            context.set_default_timeout(TIMEOUT_MS)
            page = context.new_page()
            status = page.locator(".field-status")
            memoir = page.locator("#memoir-panel")
            coverage = page.locator(".matching-panel")

            # --- a new project with its RC; a worker analyses it ---------------------
            _log_in(page, demo_site, USER, "/admin/projects/project/add/")
            page.fill("#id_name", name)
            page.set_input_files("#id_rc_document", str(rc))
            page.get_by_role("button", name="Enregistrer et continuer les modifications").click()
            expect(page.locator(".messagelist")).to_contain_text("en attente d’analyse")
            project_url = page.url
            worker = work()
            analysis = page.locator(".field-rc_analysis_panel")
            expect(analysis).to_contain_text("Relire l’analyse", timeout=60_000)
            worker.join(30)
            expect(analysis.locator(".rc-criteria-summary")).to_contain_text("Valeur technique")
            expect(analysis.locator(".rc-criteria-summary")).to_contain_text("60 %")
            expect(status).to_contain_text("RC analysé")
            expect(memoir.locator('[data-step="analysis"]')).to_have_attribute("data-state", "done")
            expect(memoir.locator('[data-step="matching"]')).to_have_attribute(
                "data-state", "current"
            )
            # Nothing approved yet: none of the technical score is covered.
            expect(coverage.locator(".coverage-total")).to_contain_text(
                "0 % de la note technique est couverte par des contenus approuvés"
            )
            expect(coverage.locator(".coverage-gaps")).to_contain_text(
                "Méthodologie d'exécution — 30 % : aucun contenu approuvé"
            )
            page.screenshot(path=SCREENSHOTS / "e2e_memoir_rc_analysed.png", full_page=True)

            # --- matching, run from the project page ---------------------------------
            memoir.get_by_role("button", name="Lancer le rapprochement").click()
            expect(page.locator("h1")).to_contain_text(f"Contenus pour « {name} »")
            expect(page.locator(".messagelist")).to_contain_text(
                "Le rapprochement est en file d’attente"
            )
            expect(page.locator("#content-main")).to_contain_text("Rapprochement en cours…")
            worker = work()
            # The page polls the job and reloads itself with the proposals.
            expect(page.get_by_role("button", name="Relancer le rapprochement")).to_be_visible(
                timeout=60_000
            )
            worker.join(30)
            expect(_proposal(page, "C1.2", cv)).to_contain_text("Proposé")
            page.screenshot(path=SCREENSHOTS / "e2e_memoir_proposals.png", full_page=True)

            # --- approval: one click per row; the coverage follows the points ----------
            def approve(requirement: str, title: str) -> None:
                row = _proposal(page, requirement, title)
                expect(row).to_have_count(1)
                row.get_by_role("button", name="Approuver", exact=True).click()
                expect(page.locator(".messagelist .success")).to_contain_text("Contenu approuvé.")
                expect(row).to_have_class(re.compile(r"\bapproved\b"))
                expect(row).to_contain_text("Approuvé")

            approve("C1.1", method)
            page.get_by_role("link", name=name, exact=True).click()  # the breadcrumb
            # Méthodologie d'exécution is 30 of the 60 points of the technical value.
            expect(coverage.locator(".coverage-total")).to_contain_text(
                "50 % de la note technique est couverte"
            )
            expect(coverage.locator('tr[data-requirement="C1.1"]')).to_contain_text("100 %")
            expect(coverage.locator(".coverage-gaps")).not_to_contain_text(
                "Méthodologie d'exécution"
            )
            expect(coverage.locator(".coverage-gaps")).to_contain_text(
                "Moyens humains et matériels — 20 % : aucun contenu approuvé"
            )
            coverage.get_by_role("link", name="Approbation des contenus").click()
            approve("C1.2", cv)
            approve("C1.2", crane)
            approve("C1.3", method)
            page.screenshot(path=SCREENSHOTS / "e2e_memoir_approved.png", full_page=True)
            page.get_by_role("link", name=name, exact=True).click()
            expect(status).to_contain_text("Correspondances établies")
            expect(memoir.locator('[data-step="matching"]')).to_have_attribute("data-state", "done")
            expect(coverage.locator(".coverage-total")).to_contain_text(
                "100 % de la note technique est couverte"
            )
            expect(coverage.locator(".coverage-gaps")).to_have_count(0)
            expect(coverage.locator('tr[data-requirement="C1.2"]')).to_contain_text("100 %")
            expect(memoir).to_contain_text("Correspondances approuvées : 4")
            page.screenshot(path=SCREENSHOTS / "e2e_memoir_matched.png", full_page=True)

            # --- generation: queued, written by a worker; the page reloads when done -----
            memoir.get_by_role("button", name="Générer le mémoire").click()
            expect(status).to_contain_text("Génération en cours")
            worker = work()
            expect(status).to_contain_text("Généré", timeout=60_000)
            worker.join(30)
            sections = memoir.locator("tr.memoir-section")
            expect(sections).to_have_count(3)
            expect(memoir.locator(".memoir-to-review")).to_have_count(3)
            page.screenshot(path=SCREENSHOTS / "e2e_memoir_generated.png", full_page=True)

            # --- review: in review, every section marked reviewed, then completed ------
            page.get_by_role("button", name="→ En relecture").click()
            expect(status).to_contain_text("En relecture")
            project_id = re.search(r"/project/([^/]+)/change/", project_url).group(1)
            page.goto(f"{demo_site}/admin/projects/section/?project__id__exact={project_id}")
            expect(page.locator("#result_list tbody tr")).to_have_count(3)
            page.locator("#action-toggle").check()
            page.select_option('select[name="action"]', label="Marquer comme relues")
            page.locator('button[name="index"]').click()
            expect(page.locator(".messagelist .success")).to_contain_text(
                "3 sections marquées comme relues."
            )
            page.goto(project_url)
            expect(memoir.locator(".memoir-reviewed")).to_have_count(3)
            expect(memoir).to_contain_text("3 section(s) relue(s) sur 3.")
            page.get_by_role("button", name="→ Terminé").click()
            expect(status).to_contain_text("Terminé")

            # --- export, then the download through the authenticated link ---------------
            memoir.get_by_role("button", name="Exporter le document Word").click()
            worker = work()
            link = memoir.locator(".memoir-exports a").first
            expect(link).to_be_visible(timeout=60_000)
            worker.join(30)
            expect(memoir.locator(".memoir-exports")).to_contain_text("environ")
            expect(memoir.locator('[data-step="document"]')).to_have_attribute("data-state", "done")
            page.screenshot(path=SCREENSHOTS / "e2e_memoir_exported.png", full_page=True)
            with page.expect_download() as download_info:
                link.click()
            download = download_info.value
            assert download.suggested_filename.endswith(".docx")
            body = Path(download.path()).read_bytes()
            # Without the session the link gives the login page, not the file.
            anonymous = browser.new_context()
            refused = anonymous.request.get(f"{demo_site}{link.get_attribute('href')}")
            assert "/admin/login/" in refused.url and not refused.body().startswith(b"PK")
            anonymous.close()

            # --- submit: the sections are read-only ------------------------------------
            page.get_by_role("button", name="→ Remis").click()
            expect(status).to_contain_text("Remis")
            expect(memoir.locator(".memoir-frozen")).to_contain_text(
                "Remis : les sections et le document sont figés."
            )
            expect(memoir.locator(".memoir-exports")).to_contain_text("remis")
            expect(memoir.locator('[data-step="submitted"]')).to_have_attribute(
                "data-state", "done"
            )
            assert page.get_by_role("button", name=re.compile("^→")).count() == 0
            sections.filter(has_text="Moyens humains et matériels").get_by_role("link").click()
            expect(page.locator("#section_form")).to_be_visible()
            expect(page.locator(".field-content")).to_contain_text(
                "Enpyco affecte une équipe dédiée"
            )
            expect(page.locator(".field-content")).to_contain_text("Marc Dubois")
            expect(page.locator(".field-sources_panel label")).to_have_text(
                re.compile(r"^Sources\s:$")
            )
            expect(page.locator(".field-sources_panel")).to_contain_text(f"{cv} — v1")
            expect(page.locator('textarea[name="content"]')).to_have_count(0)
            expect(page.locator('input[name="title"]')).to_have_count(0)
            expect(page.locator('input[name="_save"]')).to_have_count(0)
            expect(page.locator("#content-main")).not_to_contain_text("Enregistrer")
            page.screenshot(path=SCREENSHOTS / "e2e_memoir_submitted.png", full_page=True)
            context.close()
        finally:
            browser.close()

    project = Project.objects.get(name=name)
    assert project.status == ProjectStatus.SUBMITTED
    assert list(project.exports.values_list("submitted", flat=True)) == [True]
    document = docx.Document(io.BytesIO(body))
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    for heading in (
        "1. Valeur technique",
        "1.1 Méthodologie d'exécution",
        "1.2 Moyens humains et matériels",
        "1.3 Planning d'exécution",
    ):
        assert heading in headings, headings
    assert not any("Prix" in h for h in headings)  # the price gets no section
    # Section 1.2, as written and reviewed: its prose, then its fact tables.
    paragraphs, tables = _docx_part(document, "1.2 Moyens humains et matériels")
    section = Section.objects.get(project=project, section_type="C1.2")
    prose = [
        line
        for line in section.content.split("\n")
        if line.strip() and not line.startswith(("|", "#", "- "))
    ]
    assert [p.text for p in paragraphs if p.style.name == "Normal"] == prose
    assert any("Enpyco affecte une équipe dédiée" in line for line in prose)  # its template
    people, equipment = tables
    assert people[0] == ["Nom", "Fonction", "Expérience", "Habilitations valides"]
    assert people[1][:3] == ["Marc Dubois", "Conducteur de travaux principal", "18 ans"]
    assert "Sauveteur secouriste du travail (SST)" in people[1][3]
    assert equipment[0][0] == "Matériel" and equipment[1][:2] == ["Potain MDT 219 J10", "2"]
    cv_block = ContentBlock.objects.get(title=cv)
    assert str(cv_block.pk) in section.source_versions


def _docx_part(document, heading: str):
    """The paragraphs and tables (as rows of cell texts) under ``heading``, up to the
    next heading of its level or above."""
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    paragraphs, tables, level = [], [], None
    for element in document.element.body.iterchildren():
        if element.tag.endswith("}p"):
            paragraph = Paragraph(element, document)
            style = paragraph.style.name
            if style.startswith("Heading ") and style[8:].isdigit():
                if level is not None and int(style[8:]) <= level:
                    break
                if paragraph.text == heading:
                    level = int(style[8:])
                    continue
            if level is not None:
                paragraphs.append(paragraph)
        elif element.tag.endswith("}tbl") and level is not None:
            table = Table(element, document)
            tables.append([[cell.text for cell in row.cells] for row in table.rows])
    assert level is not None, f"no heading {heading!r}"
    return paragraphs, tables
