"""The content library: typed metadata, tags, French search, expiry, history, files."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.utils import translation

from library.files import check_library_upload, store_upload
from library.metadata import clean_metadata, normalize_tags
from library.models import BlockType, ContentBlock, ContentBlockVersion, StoredFile
from library.querysets import CompanyTags
from library.services import restore_version, save_block
from tests.documents import make_docx, make_pdf, make_xlsx
from tests.factories import CompanyFactory, ContentBlockFactory, UserFactory


@pytest.fixture(autouse=True)
def _english(settings, tmp_path):
    translation.activate("en")
    settings.MEDIA_ROOT = str(tmp_path / "media")


# --- metadata ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("block_type", "metadata", "expected"),
    [
        (
            BlockType.PERSON_CV,
            {
                "name": " Marc Dubois ",
                "role": "Conducteur",
                "years_experience": "18",
                "diplomas": "BTS Bâtiment; Licence pro",
                "qualifications": [
                    {"kind": "caces", "label": "R482 cat. A", "expires_on": "31 mars 2027"},
                    {"kind": "sst", "obtained_on": "14/10/2024", "mandatory": False},
                ],
                "hobby": "vélo",
            },
            {
                "name": "Marc Dubois",
                "role": "Conducteur",
                "years_experience": 18,
                "diplomas": ["BTS Bâtiment", "Licence pro"],
                "qualifications": [
                    {
                        "kind": "caces",
                        "label": "R482 cat. A",
                        "expires_on": "2027-03-31",
                        "mandatory": True,
                    },
                    {"kind": "sst", "obtained_on": "2024-10-14", "mandatory": False},
                ],
                "hobby": "vélo",
            },
        ),
        (
            BlockType.EQUIPMENT,
            {"designation": "Grue", "quantity": 2.0, "inspections": []},
            {"designation": "Grue", "quantity": 2, "inspections": []},
        ),
        (
            BlockType.CERTIFICATION,
            {"scheme": "mase", "body": "MASE", "number": "QB-1", "valid_until": "30/09/2028"},
            {"scheme": "mase", "body": "MASE", "number": "QB-1", "valid_until": "2028-09-30"},
        ),
        (
            BlockType.PAST_PROJECT_REFERENCE,
            {"client": "Ville de Lyon", "year": 2023, "amount": "4 200 000,50"},
            {"client": "Ville de Lyon", "year": 2023, "amount": 4200000.5},
        ),
        (
            BlockType.COMPANY_PROFILE,
            {"siret": "824 613 574 00014", "revenue": "14\u202f500\u202f000 €"},
            {"siret": "82461357400014", "revenue": 14500000},
        ),
        (BlockType.METHODOLOGY_TEMPLATE, {}, {"phases": []}),
    ],
)
def test_metadata_is_checked_normalised_and_unknown_keys_kept(block_type, metadata, expected):
    assert clean_metadata(block_type, metadata) == expected


@pytest.mark.parametrize(
    ("block_type", "metadata", "messages"),
    [
        (BlockType.PERSON_CV, {"name": "A"}, ["role", "required"]),
        (
            BlockType.PERSON_CV,
            {
                "name": "A",
                "role": "B",
                "qualifications": [
                    {"kind": "sst", "obtained_on": "2026-05-01", "expires_on": "2025-05-01"},
                    {"kind": "permis", "expires_on": "bientôt"},
                ],
            },
            ["row 1", "before the date obtained", "row 2", "permis", "31/03/2027"],
        ),
        (
            BlockType.EQUIPMENT,
            {"designation": "X", "quantity": 0},
            ["quantity", "at least 1"],
        ),
        (
            BlockType.CERTIFICATION,
            {"scheme": "rge", "body": "X", "number": "1", "valid_until": "bientôt"},
            ["valid until", "31 mars 2027"],
        ),
        (
            BlockType.PAST_PROJECT_REFERENCE,
            {"client": "X", "year": 2023.5, "amount": -1},
            ["year", "whole number", "amount", "at least 0"],
        ),
        (BlockType.COMPANY_PROFILE, {"siret": "123"}, ["SIRET", "14 digits"]),
        (BlockType.COMPANY_PROFILE, {"siret": "824 613 574 00015"}, ["check digit"]),
        (BlockType.EQUIPMENT, ["not", "an", "object"], ["object of named facts"]),
    ],
)
def test_wrong_metadata_names_every_problem(block_type, metadata, messages):
    with pytest.raises(ValidationError) as caught:
        clean_metadata(block_type, metadata)
    text = " ".join(caught.value.messages)
    for fragment in messages:
        assert fragment in text


@pytest.mark.django_db
def test_full_clean_reports_metadata_errors_on_the_metadata_field():
    # An equipment item without its designation (required).
    block = ContentBlockFactory.build(type=BlockType.EQUIPMENT, metadata={"make": "Potain"})
    block.company.save()
    block.created_by.save()
    with pytest.raises(ValidationError) as caught:
        block.full_clean()
    assert set(caught.value.message_dict) == {"metadata"}


def test_tags_are_trimmed_lowercased_and_deduplicated():
    assert normalize_tags(["  Levage ", "levage", "Grue  à tour", "", "QSE"]) == [
        "levage",
        "grue à tour",
        "qse",
    ]


@pytest.mark.django_db
def test_saving_a_block_normalises_its_tags():
    block = ContentBlockFactory(tags=[" BÉTON ", "béton", "Gros œuvre"])
    block.refresh_from_db()
    assert block.tags == ["béton", "gros œuvre"]


# --- tags, search, expiry -----------------------------------------------------------------


def _plan(queryset) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        return queryset.explain()


@pytest.mark.django_db(transaction=False)
def test_tag_filters_use_the_gin_index():
    company = CompanyFactory()
    crane = ContentBlockFactory(company=company, tags=["levage", "grue"])
    ContentBlockFactory(company=company, tags=["béton"])
    blocks = ContentBlock.objects.for_company(company)

    assert list(blocks.tagged_all(["Levage", "GRUE"])) == [crane]
    assert list(blocks.tagged_any(["grue", "inconnu"])) == [crane]
    # On a tiny table the planner prefers the company index; without it (and without
    # sequential scans) the containment and overlap operators must be index-served.
    everyone = ContentBlock.objects.all()
    for queryset in (everyone.tagged_all(["levage"]), everyone.tagged_any(["levage", "béton"])):
        assert "idx_content_blocks_tags" in _plan(queryset)


@pytest.mark.django_db(transaction=False)
def test_a_companys_tag_filters_use_the_company_prefixed_index_and_stay_in_the_company():
    company, other = CompanyFactory(), CompanyFactory()
    crane = ContentBlockFactory(company=company, tags=["levage", "grue"])
    concrete = ContentBlockFactory(company=company, tags=["béton"])
    ContentBlockFactory(company=company, tags=None)
    # The other company's blocks carry the same tags: the keys name the company.
    ContentBlockFactory(company=other, tags=["levage", "grue", "béton"])
    blocks = ContentBlock.objects.all()

    assert list(blocks.tagged_all(["Levage", "GRUE"], company=company)) == [crane]
    assert list(blocks.tagged_all(["levage", "béton"], company=company)) == []
    assert set(blocks.tagged_any(["grue", "béton", "inconnu"], company=company)) == {
        crane,
        concrete,
    }
    assert list(blocks.tagged_any([], company=company)) == []
    assert list(blocks.filter(is_active=True).tagged_all(["béton"], company=company)) == [concrete]
    # The filters send the company-prefixed keys, and that expression is the index's (on
    # a tiny table the planner prefers the company's own index, so it is shown alone).
    for queryset in (
        blocks.tagged_all(["levage"], company=company),
        blocks.tagged_any(["levage", "béton"], company=company),
    ):
        assert "enpyco_company_tags(" in str(queryset.query)
    keys = ContentBlock.objects.alias(company_tags=CompanyTags())
    for queryset in (
        keys.filter(company_tags__contains=[f"{company.pk}:levage"]),
        keys.filter(company_tags__overlap=[f"{company.pk}:levage", f"{company.pk}:béton"]),
    ):
        assert "idx_content_blocks_company_tags" in _plan(queryset)


@pytest.mark.django_db
def test_company_scoped_querysets_fail_closed_and_pickle():
    import pickle

    from projects.models import Section
    from tenants.managers import CompanyRequired

    for company in (None, ""):
        with pytest.raises(CompanyRequired):
            ContentBlock.objects.for_company(company)
        with pytest.raises(CompanyRequired):
            Section.objects.filter(reviewed=False).for_company(company)
    # Querysets are plain classes: they pickle (a cache, a task argument).
    assert pickle.loads(pickle.dumps(Section.objects.none())).model is Section
    assert type(pickle.loads(pickle.dumps(ContentBlock.objects.all()))) is type(
        ContentBlock.objects.all()
    )


@pytest.mark.django_db(transaction=False)
def test_a_big_companys_tag_filters_use_the_tags_themselves(monkeypatch):
    """Past COMPANY_TAG_INDEX_MAX_BLOCKS, the planner gets ``tags`` (walk the company's
    blocks newest first, or the tag index), not the company-prefixed keys."""
    from library import querysets

    company = CompanyFactory()
    crane = ContentBlockFactory(company=company, tags=["levage", "grue"])
    ContentBlockFactory(company=company, tags=["béton"])
    monkeypatch.setattr(querysets, "COMPANY_TAG_INDEX_MAX_BLOCKS", 1)
    blocks = ContentBlock.objects.all()

    assert list(blocks.tagged_all(["grue"], company=company)) == [crane]
    assert list(blocks.tagged_any(["grue", "inconnu"], company=company)) == [crane]
    assert "enpyco_company_tags" not in str(blocks.tagged_all(["grue"], company=company).query)


@pytest.mark.django_db
def test_french_search_folds_accents_and_plurals_and_uses_its_index():
    company = CompanyFactory()
    kit = ContentBlockFactory(
        company=company, title="Parc matériel", content="Nos equipements de levage."
    )
    ContentBlockFactory(
        company=company, title="Procédure déchets", content="Tri sélectif sur chantier."
    )
    by_tag = ContentBlockFactory(
        company=company, title="Habilitations", content="…", tags=["sécurité"]
    )

    blocks = ContentBlock.objects.for_company(company)
    assert list(blocks.search("équipement")) == [kit]
    assert list(blocks.search("materiels")) == [kit]
    assert list(blocks.search("securite")) == [by_tag]
    assert "idx_content_blocks_fts" in _plan(ContentBlock.objects.search("équipement"))


@pytest.mark.django_db
def test_dated_content_is_expired_expiring_or_valid():
    company = CompanyFactory()
    today = datetime.date(2026, 11, 25)

    def cert(days):
        return ContentBlockFactory(
            company=company,
            type=BlockType.CERTIFICATION,
            metadata={
                "issuer": "Q",
                "number": "1",
                "valid_until": (today + datetime.timedelta(days=days)).isoformat(),
            },
        )

    expired, expiring, valid = cert(-1), cert(60), cert(61)
    undated = ContentBlockFactory(
        company=company, type=BlockType.PROCEDURE, metadata={"reference": "P"}
    )
    blocks = ContentBlock.objects.for_company(company)
    assert list(blocks.expired(today)) == [expired]
    assert list(blocks.expiring(today)) == [expiring]
    assert list(blocks.valid_beyond_warning(today)) == [valid]
    assert undated.valid_until is None and valid.valid_until == today + datetime.timedelta(days=61)


# --- history ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_each_saved_change_keeps_the_previous_version_and_can_be_restored():
    block = ContentBlockFactory(title="Grue v1", content="Texte 1")
    editor = UserFactory(company=block.company)

    block.title, block.content = "Grue v2", "Texte 2"
    save_block(block.company, block, user=editor, expected_version=1)
    block.content = "Texte 3"
    save_block(block.company, block, user=editor, expected_version=2)

    block.refresh_from_db()
    assert (block.version, block.content) == (3, "Texte 3")
    history = list(block.versions.order_by("version").values_list("version", "title", "content"))
    assert history == [(1, "Grue v1", "Texte 1"), (2, "Grue v2", "Texte 2")]
    second = block.versions.get(version=2)
    assert second.changes == {"content": {"old": "Texte 2", "new": "Texte 3"}}
    assert second.replaced_by == editor

    restored = restore_version(block.company, block.pk, 1, user=editor)
    assert (restored.version, restored.title, restored.content) == (4, "Grue v1", "Texte 1")
    assert block.versions.get(version=3).content == "Texte 3"  # nothing lost


@pytest.mark.django_db
def test_saving_without_change_keeps_no_version():
    block = ContentBlockFactory()
    save_block(block.company, block, user=block.created_by, expected_version=1)
    assert not ContentBlockVersion.objects.filter(block=block).exists()


# --- files -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "name", "mime"),
    [
        (make_pdf([["CV"]]), "cv.pdf", "application/pdf"),
        (
            make_docx([("Fiche", ["x"])]),
            "fiche.docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        (
            make_xlsx(),
            "parc.xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "photo.png", "image/png"),
    ],
)
def test_allowed_files_are_recognised_by_content(data, name, mime):
    checked = check_library_upload(ContentFile(data, name=name))
    assert (
        checked.kind.mime_type == mime and checked.size == len(data) and len(checked.sha256) == 64
    )


@pytest.mark.parametrize(
    ("data", "name", "code"),
    [
        (b"", "vide.pdf", "empty"),
        (b"MZ\x90\x00" + b"\x00" * 64, "facture.pdf", "file_type"),
        (b"<html><script>alert(1)</script></html>", "photo.png", "file_type"),
        (b"Du texte brut", "notes.docx", "file_type"),
        (b"%PDF-1.4" + b"0" * 5000, "gros.pdf", "too_large"),
    ],
)
def test_refused_files(settings, data, name, code):
    settings.LIBRARY_MAX_FILE_BYTES = 4096
    with pytest.raises(ValidationError) as caught:
        check_library_upload(ContentFile(data, name=name))
    assert caught.value.code == code


@pytest.mark.django_db
def test_the_same_file_is_stored_once_per_company_under_its_path():
    user = UserFactory()
    other = UserFactory()
    data = make_pdf([["Certificat Qualibat"]])

    first, created = store_upload(
        ContentFile(data, name="qualibat.pdf"), company_id=user.company_id, user=user
    )
    again, created_again = store_upload(
        ContentFile(data, name="copie.pdf"), company_id=user.company_id, user=user
    )
    theirs, created_theirs = store_upload(
        ContentFile(data, name="q.pdf"), company_id=other.company_id, user=other
    )

    assert (created, created_again, created_theirs) == (True, False, True)
    assert again.pk == first.pk and theirs.pk != first.pk
    assert StoredFile.objects.count() == 2
    assert first.storage_url.startswith(f"companies/{user.company_id}/files/")
    assert first.size_bytes == len(data) and first.file_type == "application/pdf"
    with default_storage.open(first.storage_url) as handle:
        assert handle.read() == data
