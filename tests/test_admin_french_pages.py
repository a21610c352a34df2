"""Every admin page, as each demo role (and a platform superuser), reads as French: no English string of Django's
interface, no slug where a label belongs, no Python repr.

The pages are generated from the admin registry (the index, then for each registered
model its changelist, its add page and the change page of one of the demo company's
rows), on the demo data (``fixtures/demo.json``) completed with one row of each model it
lacks; refused pages (403) are checked too, they must be the French error page.
"""

from __future__ import annotations

import contextlib
import functools
import re
from html import unescape

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.db import transaction
from django.test import Client
from django.urls import NoReverseMatch, reverse
from django.utils import translation

from tenants.models import Company, User
from tests.admin_isolation_support import FACTORIES, build, is_tenant_model, registry
from tests.factories import SuperuserFactory

pytestmark = pytest.mark.django_db

PLATFORM_EMAIL = "plateforme@enpyco.com"
DEMO_USERS = {
    "admin": "admin@enpyco.com",
    "user": "user@enpyco.com",
    "viewer": "viewer@enpyco.com",
    "superuser": PLATFORM_EMAIL,
}

#: Words and phrases of Django's English interface (and of English generally) that a
#: French page never shows.
ENGLISH = [
    "Add",
    "Change",
    "Delete",
    "Save",
    "History",
    "Filter",
    "Search",
    "Home",
    "Select",
    "Log out",
    "View site",
    "Show all",
    "Clear all filters",
    "Are you sure",
    "None",
    "True",
    "False",
    "Yes",
    "Unknown",
    "Forbidden",
    "Not Found",
    "Server Error",
    "Today",
    "Choose",
    "Remove",
    "Cancel",
    "Edit",
    "Loading",
    "Please",
    "Error",
    "Pending",
    "Running",
    "Queued",
    "Failed",
    "Draft",
    "Approved",
    "Completed",
    "Submitted",
    "Dashboard",
    "the",
    "of",
    "with",
    "and",
    "for",
    "is",
    "this",
    "your",
    "object",
    "objects",
]
_ENGLISH = re.compile(r"(?<![\w’'-])(" + "|".join(map(re.escape, ENGLISH)) + r")(?![\w’'-])")
#: What a Python object's repr looks like on a page.
_REPR = re.compile(
    r"object at 0x|DatabaseDefault|<django\.|Decimal\('|datetime\.|UUID\('|\{'|\bNone\b"
)


def _slugs() -> set[str]:
    """Every choice value of the project's models written as a code (``rc_analyzed``,
    ``person-cv``), and the codes stored in the free-text columns of codes
    (``section_type``): shown as text, it is a slug where a label belongs."""
    from django.apps import apps

    from config import labels

    with translation.override("fr"):
        # A code that is also the French word ("planning") reads as it should.
        values = {c for c, label in labels.SECTION_TYPES.items() if c != str(label).lower()}
    for model in apps.get_models():
        for name in labels.CODED_FIELDS:
            if any(f.name == name for f in model._meta.concrete_fields):
                values |= set(model._default_manager.values_list(name, flat=True).distinct())
    for model in apps.get_models():
        for f in model._meta.get_fields():
            for value, _label in getattr(f, "flatchoices", None) or ():
                if isinstance(value, str) and re.fullmatch(r"[a-z0-9]+([_-][a-z0-9]+)+", value):
                    values.add(value)
    return values


@functools.cache
def _untranslated_pattern() -> re.Pattern:
    """The project's own English messages (``locale/fr/…/django.po``), as a page would
    show them if their translation were missing: whole sentences without placeholders."""
    from tests.test_i18n import PO_PATH, parse_po

    msgids = {
        e.msgid
        for e in parse_po(PO_PATH.read_text(encoding="utf-8"))
        if not e.obsolete
        and e.msgid_plural is None
        and " " in e.msgid
        and len(e.msgid) >= 12
        and "%" not in e.msgid
        and "{" not in e.msgid
        and e.msgstr.get(0)
        and e.msgstr[0] != e.msgid
    }
    alternatives = "|".join(re.escape(m) for m in sorted(msgids, key=len, reverse=True))
    return re.compile(rf"(?<![\w])({alternatives})(?![\w])")


def visible_text(html: str) -> str:
    html = re.sub(r"<(script|style|template)\b.*?</\1>", " ", html, flags=re.S | re.I)
    # The JSON editors and text areas hold the user's data as they typed it.
    html = re.sub(r"<textarea\b.*?</textarea>", " ", html, flags=re.S | re.I)
    html = re.sub(
        r'<[^>]*class="[^"]*visually-hidden[^"]*"[^>]*>.*?</[^>]+>', " ", html, flags=re.S
    )
    text = unescape(re.sub(r"<[^>]+>", " ", html))
    return re.sub(r"\s+", " ", text)


def problems(html: str, slugs: set[str]) -> list[str]:
    text = visible_text(html)

    def where(match) -> str:
        return text[max(match.start() - 40, 0) : match.end() + 40].strip()

    found = {}
    for match in _ENGLISH.finditer(text):
        found.setdefault(f"English “{match.group()}”", where(match))
    for match in _untranslated_pattern().finditer(text):
        found.setdefault(f"untranslated “{match.group()}”", where(match))
    for match in _REPR.finditer(text):
        found.setdefault(f"repr “{match.group()}”", where(match))
    for match in re.finditer(r"(?<![\w-])[a-z0-9]+(?:[_-][a-z0-9]+)*(?![\w-])", text):
        if match.group() in slugs:
            found.setdefault(f"slug “{match.group()}”", where(match))
    return [f"{what} in “…{context}…”" for what, context in sorted(found.items())]


def _complete_demo(company: Company) -> None:
    """One row of each registered tenant model the demo data lacks."""
    for model, _admin in registry():
        if not is_tenant_model(model) or model not in FACTORIES:
            continue
        if not model._default_manager.for_company(company).exists():
            build(model, company)


def _urls(company: Company) -> list[str]:
    urls = [reverse("admin:index")]
    # The pages that are no model's (config.admin_site.get_urls): the company's Word
    # template (a platform superuser's list of companies, then one company's page).
    urls += [
        reverse("admin:memoir_word_template"),
        reverse("admin:memoir_word_template_company", args=[company.pk]),
    ]
    for model, _admin in registry():
        opts = model._meta
        base = f"admin:{opts.app_label}_{opts.model_name}"
        urls.append(reverse(f"{base}_changelist"))
        with contextlib.suppress(NoReverseMatch):
            urls.append(reverse(f"{base}_add"))
        manager = model._default_manager
        obj = (manager.for_company(company) if is_tenant_model(model) else manager).first()
        if obj is not None:
            urls.append(reverse(f"{base}_change", args=[obj.pk]))
            urls.append(reverse(f"{base}_history", args=[obj.pk]))
    return urls


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """The demo data, completed, loaded once for the module and rolled back after."""
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            call_command("loaddata", "demo", verbosity=0)
            company = User.objects.get(email=DEMO_USERS["admin"]).company
            _complete_demo(company)
            SuperuserFactory(email=PLATFORM_EMAIL, full_name="Opératrice Plateforme")
        except BaseException:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
            raise
    try:
        yield company
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


@pytest.mark.parametrize("role", sorted(DEMO_USERS))
def test_every_admin_page_reads_as_french(demo, role):
    user = User.objects.get(email=DEMO_USERS[role])
    client = Client(headers={"accept-language": "fr"})
    client.force_login(user)
    slugs = _slugs()
    failures = []
    checked = 0
    for url in _urls(demo):
        response = client.get(url)
        if response.status_code in (301, 302):
            continue
        assert response.status_code in (200, 403), (url, response.status_code)
        checked += 1
        for problem in problems(response.content.decode(), slugs):
            failures.append(f"{url} ({response.status_code}): {problem}")
    assert checked > 3 * len(admin.site._registry)
    assert not failures, "\n".join(failures)


def test_the_checks_catch_what_they_look_for():
    slugs = {"rc_analyzed", "person-cv"}
    page = (
        "<p>Add a block</p><p>Statut : rc_analyzed</p><p>&lt;DatabaseDefault object at 0x7f&gt;</p>"
    )
    found = problems(page, slugs)
    assert any(p.startswith("English “Add”") for p in found)
    assert any(p.startswith("slug “rc_analyzed”") for p in found)
    assert any(p.startswith("repr") for p in found)
    assert problems("<p>Ajouter un bloc</p><p>Statut : RC analysé</p>", slugs) == []
    # A message of the project's catalog shown in English is caught too.
    found = problems("<p>Projects in progress</p>", slugs)
    assert any(p.startswith("untranslated “Projects in progress”") for p in found)
    # Codes inside attributes and scripts are not read by anyone.
    assert problems('<a href="?status=rc_analyzed" title="Add">Filtrer</a>', slugs) == []
