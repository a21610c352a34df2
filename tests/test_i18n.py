"""The French translation of the admin (``locale/fr/LC_MESSAGES/django.po`` and ``.mo``).

The catalog is made and compiled with the gettext tools::

    manage.py makemessages -l fr --ignore=.venv --ignore=tests --ignore=.pgdata
    manage.py compilemessages --ignore=.venv

The compiled ``django.mo`` is committed so machines without gettext still speak French;
these tests need no gettext tool: the ``.po`` is read by the small parser below and the
``.mo`` by Python's ``gettext`` module.
"""

from __future__ import annotations

import ast
import gettext
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation.template import templatize

from tests.factories import DEFAULT_PASSWORD, PROJECT_APPS, ContentBlockFactory, UserFactory

ROOT = Path(settings.BASE_DIR)
LOCALE_DIR = ROOT / "locale"
PO_PATH = LOCALE_DIR / "fr" / "LC_MESSAGES" / "django.po"
MO_PATH = PO_PATH.with_suffix(".mo")


# --- a small .po parser ------------------------------------------------------------


@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    references: list[str] = field(default_factory=list)
    obsolete: bool = False

    @property
    def key(self) -> tuple[str | None, str]:
        return (self.msgctxt, self.msgid)

    @property
    def where(self) -> str:
        return " ".join(self.references) or repr(self.msgid)


def parse_po(text: str) -> list[Entry]:
    """Entries of a .po file (header included, ``msgid == ""``), in file order.

    Obsolete entries (``#~``) are returned with ``obsolete=True``. Strings are unescaped
    with ``ast.literal_eval``, the escapes of .po files being those of Python literals.
    """
    entries: list[Entry] = []
    entry: Entry | None = None
    target: tuple[str, int] | None = None  # (attribute, plural index) being continued

    def append(value: str) -> None:
        name, index = target
        if name == "msgstr":
            entry.msgstr[index] = entry.msgstr.get(index, "") + value
        else:
            setattr(entry, name, (getattr(entry, name) or "") + value)

    def start_entry_if_needed(keyword: str) -> None:
        nonlocal entry
        # A new entry starts at its first keyword line after a msgstr, or at the top.
        if entry is None or (entry.msgstr and keyword in ("msgctxt", "msgid")):
            entry = Entry()
            entries.append(entry)

    pending_comments: list[str] = []
    for raw in text.splitlines():
        line = raw.strip()
        obsolete = line.startswith("#~")
        if obsolete:
            line = line[2:].strip()
            if line.startswith("|"):  # "#~|" previous msgid of an obsolete entry
                continue
        if not line:
            target = None
            continue
        if line.startswith("#"):
            pending_comments.append(line)
            target = None
            continue
        match = re.match(r"(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+(\".*\")$", line)
        if match:
            keyword, index, literal = match.group(1), match.group(2), match.group(3)
            base = keyword.split("[")[0]
            start_entry_if_needed(base)
            if pending_comments:
                for comment in pending_comments:
                    if comment.startswith("#,"):
                        entry.flags |= {f.strip() for f in comment[2:].split(",") if f.strip()}
                    elif comment.startswith("#:"):
                        entry.references += comment[2:].split()
                pending_comments = []
            entry.obsolete = entry.obsolete or obsolete
            target = (base, int(index or 0))
            if base == "msgstr":
                entry.msgstr.setdefault(target[1], "")
            append(ast.literal_eval(literal))
            continue
        if line.startswith('"') and target is not None:
            append(ast.literal_eval(line))
            continue
        raise ValueError(f"Unexpected line in the .po file: {raw!r}")
    return entries


@pytest.fixture(scope="module")
def po_entries() -> list[Entry]:
    assert PO_PATH.exists(), f"{PO_PATH} is missing: run makemessages -l fr"
    return parse_po(PO_PATH.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def messages(po_entries) -> list[Entry]:
    """The translatable messages: neither the header nor obsolete entries."""
    return [e for e in po_entries if e.msgid and not e.obsolete]


def test_the_parser_reads_plurals_contexts_and_continuation_lines():
    entries = parse_po(
        '# header\nmsgid ""\nmsgstr ""\n"Language: fr\\n"\n\n'
        '#: a.py:1\n#, fuzzy, python-format\nmsgctxt "c"\nmsgid ""\n"long "\n"text %(n)s"\n'
        'msgid_plural "texts"\nmsgstr[0] "un \\"texte\\""\nmsgstr[1] ""\n"des textes"\n\n'
        '#~ msgid "gone"\n#~ msgstr "parti"\n'
    )
    header, plural, gone = entries
    assert header.msgid == "" and header.msgstr == {0: "Language: fr\n"}
    assert plural.key == ("c", "long text %(n)s") and plural.msgid_plural == "texts"
    assert plural.msgstr == {0: 'un "texte"', 1: "des textes"}
    assert plural.flags == {"fuzzy", "python-format"} and plural.references == ["a.py:1"]
    assert gone.obsolete and gone.msgstr == {0: "parti"}


# --- (a) the catalog is complete ---------------------------------------------------------


def test_header_is_french_with_french_plural_rule(po_entries):
    header = po_entries[0]
    assert header.msgid == "" and "fuzzy" not in header.flags
    assert "Language: fr\n" in header.msgstr[0]
    assert "Plural-Forms: nplurals=2; plural=(n > 1);\n" in header.msgstr[0]
    assert "Content-Type: text/plain; charset=UTF-8\n" in header.msgstr[0]


def test_every_message_is_translated_and_none_is_fuzzy(messages):
    assert len(messages) > 100  # the parser did find the catalog's messages
    fuzzy = [e.where for e in messages if "fuzzy" in e.flags]
    assert not fuzzy, f"fuzzy entries: {fuzzy}"
    untranslated = [
        e.where for e in messages if not e.msgstr or any(not s.strip() for s in e.msgstr.values())
    ]
    assert not untranslated, f"untranslated entries: {untranslated}"
    wrong_plurals = [e.where for e in messages if e.msgid_plural and sorted(e.msgstr) != [0, 1]]
    assert not wrong_plurals, f"plural entries without exactly 2 forms: {wrong_plurals}"


# %(name)s, %(count)d, %(seconds).1f, %s… (conversion flags, width and precision included)
_PERCENT = re.compile(r"%(?:\(\w+\))?[#0 +-]*\d*(?:\.\d+)?[sdifeEgGxXorc%]")
_BRACES = re.compile(r"\{(\w*)\}")


def test_translations_keep_the_placeholders(messages):
    """``%(name)s``, ``%(count)d``, ``%(seconds).1f`` and ``{field}`` survive translation,
    conversion included."""
    broken = []
    # xgettext flags the messages it saw formatted: python-format (%) and python-brace-format.
    assert any("python-format" in e.flags for e in messages)
    for e in messages:
        sources = [e.msgid, e.msgid_plural or e.msgid]
        for index, translated in e.msgstr.items():
            source = sources[min(index, 1)]
            if "python-format" in e.flags and sorted(
                m.group(0) for m in _PERCENT.finditer(source)
            ) != sorted(m.group(0) for m in _PERCENT.finditer(translated)):
                broken.append((e.msgid, translated))
            if "python-brace-format" in e.flags and sorted(_BRACES.findall(source)) != sorted(
                _BRACES.findall(translated)
            ):
                broken.append((e.msgid, translated))
    assert not broken


def test_no_message_is_listed_twice(messages):
    keys = [e.key for e in messages]
    assert len(keys) == len(set(keys))


# --- (b) the compiled catalog matches the .po ------------------------------------------------


def test_compiled_catalog_is_up_to_date(messages):
    assert MO_PATH.exists(), f"{MO_PATH} is missing: run compilemessages --ignore=.venv"
    with MO_PATH.open("rb") as mo:
        compiled = gettext.GNUTranslations(mo)
    catalog = {k: v for k, v in compiled._catalog.items() if k != ""}

    expected = {}
    for e in messages:
        msgid = f"{e.msgctxt}\x04{e.msgid}" if e.msgctxt is not None else e.msgid
        if e.msgid_plural is None:
            expected[msgid] = e.msgstr[0]
        else:
            for index, text in e.msgstr.items():
                expected[(msgid, index)] = text

    stale = {k: (catalog.get(k), v) for k, v in expected.items() if catalog.get(k) != v}
    extra = sorted(map(str, set(catalog) - set(expected)))
    assert not stale and not extra, (
        "django.mo differs from django.po: run `manage.py compilemessages --ignore=.venv` "
        f"(differing: {list(stale)[:10]}, only in .mo: {extra[:10]})"
    )
    assert compiled.info().get("plural-forms") == "nplurals=2; plural=(n > 1);"
    assert compiled.ngettext("a", "b", 1) == "a" and compiled.ngettext("a", "b", 2) == "b"


# --- (c) the admin speaks French by default, English on request ------------------------------


@pytest.fixture
def staff_client(client, db):
    user = UserFactory()
    ContentBlockFactory(company=user.company, created_by=user, tags=["gros œuvre"])
    assert client.login(username=user.email, password=DEFAULT_PASSWORD)
    return client


def test_settings_default_to_french():
    assert settings.LANGUAGE_CODE == "fr"
    assert settings.TIME_ZONE == "Europe/Paris"
    assert [code for code, _name in settings.LANGUAGES] == ["fr", "en"]
    assert LOCALE_DIR in [Path(p) for p in settings.LOCALE_PATHS]
    assert "django.middleware.locale.LocaleMiddleware" in settings.MIDDLEWARE


def test_admin_index_is_in_french_by_default(staff_client):
    response = staff_client.get(reverse("admin:index"))
    assert response.status_code == 200
    assert response.headers["Content-Language"] == "fr"
    html = response.content.decode()
    assert '<html lang="fr"' in html
    for text in ("Déconnexion", "Tableau de bord", "Bibliothèque", "Blocs de contenu"):
        assert text in html, text
    assert "Log out" not in html and "Content blocks" not in html


def test_changelist_is_in_french_by_default(staff_client):
    response = staff_client.get(reverse("admin:library_contentblock_changelist"))
    assert response.status_code == 200
    html = response.content.decode()
    # Title, add button and column headers (verbose names, capitalised by the admin).
    for text in ("bloc de contenu", "Ajouter", "Titre", "Mots-clés", "Modifié le", "Déconnexion"):
        assert text in html, text
    assert "Log out" not in html


def test_admin_speaks_english_when_the_browser_asks(staff_client):
    response = staff_client.get(
        reverse("admin:library_contentblock_changelist"), HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 200
    assert response.headers["Content-Language"] == "en"
    html = response.content.decode()
    for text in ("Log out", "content block", "Title", "Updated at"):
        assert text in html, text
    assert "Déconnexion" not in html


def test_admin_speaks_english_with_the_language_cookie(staff_client):
    staff_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = staff_client.get(reverse("admin:index")).content.decode()
    assert "Log out" in html and "Content blocks" in html
    assert "Déconnexion" not in html


@pytest.mark.django_db
def test_login_page_is_in_french_for_anonymous_visitors(client):
    html = client.get(reverse("admin:login")).content.decode()
    assert "Connexion" in html and "Enpyco — mémoires techniques" in html


# --- (d) every model and field name is translated --------------------------------------------

#: Words French writes exactly like English, so their translation is the msgid itself.
#: Keep this list short: a word belongs here only if the usual French term is identical
#: (a "lot" of a public tender, a "section" of the mémoire, a document "format"…).
SAME_IN_FRENCH = {
    "action",
    "certifications",
    "description",
    "format",
    "lot",
    "photos",
    "section",
    "sections",
    "type",
    "version",
}


def _names_of_models():
    """(what, English, French) of every model, app and field name of the project apps."""
    for label in PROJECT_APPS:
        config = apps.get_app_config(label)
        yield f"app {label}", config.verbose_name
        for model in config.get_models():
            opts = model._meta
            yield f"{opts.label}.verbose_name", opts.verbose_name
            yield f"{opts.label}.verbose_name_plural", opts.verbose_name_plural
            for f in opts.get_fields():
                if f.auto_created and not f.concrete:
                    continue  # reverse relations: named by the model they come from
                if f.primary_key and f.name in ("id", "pk"):
                    # The uuid primary key (config.db.fields.uuid_primary_key) has no
                    # verbose name; it is never shown (editable=False, in no list); nor
                    # is a composite key ("pk"), made of fields named on their own.
                    continue
                yield f"{opts.label}.{f.name}", f.verbose_name


def test_model_and_field_names_are_translated():
    untranslated = []
    for what, name in _names_of_models():
        with translation.override("en"):
            english = str(name)
        with translation.override("fr"):
            french = str(name)
        if french.lower() == english.lower() and english.lower() not in SAME_IN_FRENCH:
            untranslated.append(f"{what}: {english!r}")
    assert not untranslated, "not translated into French: " + ", ".join(untranslated)


def test_choices_are_translated():
    from library.models import BlockType, FileRelationship
    from projects.models import GenerationStatus, ProjectStatus
    from tenants.models import Role

    with translation.override("fr"):
        assert Role.VIEWER.label == "Lecteur"
        assert Role.ADMIN.label == "Administrateur"
        assert BlockType.EQUIPMENT.label == "Matériel"
        assert FileRelationship.DATASHEET.label == "Fiche technique"
        assert ProjectStatus.RC_ANALYZED.label == "RC analysé"
        assert GenerationStatus.FAILED.label == "Échec"


# --- (e) nothing marked for translation is missing from the .po ------------------------------

#: Directories makemessages does not read: those the command line above ignores, hidden
#: ones (ignored by default) and git-ignored build output.
_SKIPPED_DIRS = {".venv", ".pgdata", "tests", "media", "staticfiles", "build", "__pycache__"}
_GETTEXT_FUNCTIONS = {
    # name: (index of the context argument or None, indexes of the message arguments)
    "gettext": (None, (0,)),
    "gettext_lazy": (None, (0,)),
    "gettext_noop": (None, (0,)),
    "ngettext": (None, (0, 1)),
    "ngettext_lazy": (None, (0, 1)),
    "pgettext": (0, (1,)),
    "pgettext_lazy": (0, (1,)),
    "npgettext": (0, (1, 2)),
    "npgettext_lazy": (0, (1, 2)),
}


def _source_files(*suffixes: str):
    for path in sorted(ROOT.rglob("*")):
        relative = path.relative_to(ROOT)
        if any(part in _SKIPPED_DIRS or part.startswith(".") for part in relative.parts[:-1]):
            continue
        if path.is_file() and path.suffix in suffixes:
            yield path


def _python_messages(path: Path):
    """(context, msgid, msgid_plural, where) of each gettext call of a Python module.

    The functions are recognised by how the module imports them from
    ``django.utils.translation`` (``gettext_lazy as _``, ``ngettext``…) or as
    ``translation.<function>``, so an unrelated ``_`` is not mistaken for gettext.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "django.utils.translation":
            for name in node.names:
                if name.name in _GETTEXT_FUNCTIONS:
                    aliases[name.asname or name.name] = name.name
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id in aliases:
            function = aliases[func.id]
        elif (
            isinstance(func, ast.Attribute)
            and func.attr in _GETTEXT_FUNCTIONS
            and isinstance(func.value, ast.Name)
            and func.value.id == "translation"
        ):
            function = func.attr
        else:
            continue
        where = f"{path.relative_to(ROOT)}:{node.lineno}"
        context_index, message_indexes = _GETTEXT_FUNCTIONS[function]
        args = node.args
        wanted = [i for i in (context_index, *message_indexes) if i is not None]
        if len(args) <= max(wanted):
            continue
        if any(isinstance(args[i], ast.JoinedStr) for i in wanted):
            raise AssertionError(f"{where}: an f-string cannot be translated")
        if not all(
            isinstance(args[i], ast.Constant) and isinstance(args[i].value, str) for i in wanted
        ):
            continue  # a variable (translated where it was marked with gettext_noop)
        context = args[context_index].value if context_index is not None else None
        msgid = args[message_indexes[0]].value
        plural = args[message_indexes[1]].value if len(message_indexes) > 1 else None
        yield context, msgid, plural, where


_TEMPLATE_CALL = re.compile(
    r"\b(n?p?gettext)\(((?:\s*u?'(?:[^'\\]|\\.)*'\s*,?|\s*u?\"(?:[^\"\\]|\\.)*\"\s*,?)+)"
)
_LITERAL = re.compile(r"u?'(?:[^'\\]|\\.)*'|u?\"(?:[^\"\\]|\\.)*\"")


def _template_messages(path: Path):
    """The same, for a template: converted to gettext calls by Django's own ``templatize``
    (what makemessages does), then read back."""
    source = templatize(path.read_text(encoding="utf-8"), origin=str(path))
    for match in _TEMPLATE_CALL.finditer(source):
        function = match.group(1)
        strings = [ast.literal_eval(s.lstrip("u")) for s in _LITERAL.findall(match.group(2))]
        context = strings.pop(0) if "p" in function else None
        plural = strings[1] if function.startswith("n") else None
        yield context, strings[0], plural, str(path.relative_to(ROOT))


def test_the_source_scanner_finds_known_messages():
    found = {
        (c, m, p)
        for path in _source_files(".py", ".html", ".txt")
        for c, m, p, _where in (
            _python_messages(path) if path.suffix == ".py" else _template_messages(path)
        )
    }
    assert (None, "content block", None) in found  # gettext_lazy as _
    assert (None, "{field} must be between 0 and 1.", None) in found  # inside format_lazy
    assert (  # ngettext over implicitly concatenated literals
        None,
        "%(count)d section marked reviewed.",
        "%(count)d sections marked reviewed.",
    ) in found
    assert (None, "%(counter)s request", "%(counter)s requests") in found  # blocktranslate
    assert (None, "Totals for this selection:", None) in found  # {% translate %}


def test_every_marked_string_is_in_the_catalog(messages):
    """Strings marked in the code since the last makemessages are caught here."""
    catalog = {e.key: e for e in messages}
    missing = []
    for path in _source_files(".py", ".html", ".txt"):
        found = _python_messages(path) if path.suffix == ".py" else _template_messages(path)
        for context, msgid, plural, where in found:
            entry = catalog.get((context, msgid))
            if entry is None or entry.msgid_plural != plural:
                missing.append(f"{where}: {msgid!r}")
    assert not missing, (
        "run `manage.py makemessages -l fr --ignore=.venv --ignore=tests --ignore=.pgdata`, "
        "translate, then `manage.py compilemessages --ignore=.venv`; missing: " + "; ".join(missing)
    )
