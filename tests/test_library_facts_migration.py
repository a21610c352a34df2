"""library.0007: existing metadata into the typed shape of library.facts and back.

The conversion functions are checked on their own (fast), then the migration is run as
operators run it (``manage.py migrate`` in a subprocess, on a database of its own) over
blocks and kept versions written in the old shape.
"""

from __future__ import annotations

import datetime
import importlib
import json

import pytest

from library import facts
from library.metadata import clean_metadata

MIGRATION = importlib.import_module("library.migrations.0007_typed_facts")

LEGACY = {
    "person-cv": {
        "name": "Marc Dubois",
        "role": "Conducteur de travaux",
        "years_experience": 18,
        "qualifications": [
            "BTS Bâtiment",
            "CACES R482 cat. A",
            "Sauveteur secouriste du travail (SST)",
            "Encadrement de chantier MASE",
        ],
        "valid_until": "2027-03-31",
        "hobby": "vélo",
    },
    "equipment": {
        "make": "Potain",
        "model": "MDT 219",
        "quantity": 2,
        "owned": True,
        "max_load_t": 10,
        "valid_until": "2026-06-30",
    },
    "certification": {
        "issuer": "Qualibat",
        "number": "QB-068452",
        "valid_until": "2028-09-30",
        "scope": "2112",
    },
    "methodology-template": {
        "placeholders": ["nom_projet"],
        "phases": [
            {"order": 2, "name": "Gros œuvre", "duration_weeks": 20},
            {"order": 1, "name": "Préparation", "duration_weeks": 4},
        ],
    },
    "company-profile": {"siret": "824 613 574 00014", "headcount": 85, "naf": "4120B"},
    "procedure": {"reference": "PR-QSE-07", "revision": "D", "valid_until": "2027-01-31"},
    "past-project-reference": {"client": "Ville de Lyon", "year": 2023, "amount": 4200000},
}


def test_a_cv_gets_diplomas_and_dated_qualification_rows():
    typed = MIGRATION.to_typed("person-cv", LEGACY["person-cv"])
    assert typed["diplomas"] == ["BTS Bâtiment"]
    assert typed["qualifications"] == [
        {
            "kind": "caces",
            "label": "CACES R482 cat. A",
            "mandatory": True,
            "expires_on": "2027-03-31",
        },
        {
            "kind": "sst",
            "label": "Sauveteur secouriste du travail (SST)",
            "mandatory": True,
            "expires_on": "2027-03-31",
        },
        {"kind": "other", "label": "Encadrement de chantier MASE", "mandatory": False},
    ]
    assert "valid_until" not in typed and typed["hobby"] == "vélo"  # unknown keys kept
    cv = facts.read("person-cv", typed)
    assert cv.validity().until == datetime.date(2027, 3, 31)
    assert cv.qualifications[0].name() == "CACES R482 cat. A"


@pytest.mark.parametrize("block_type", sorted(LEGACY))
def test_every_type_converts_to_valid_typed_metadata_and_back(block_type):
    legacy = LEGACY[block_type]
    typed = MIGRATION.to_typed(block_type, legacy)
    # Valid, and already in the shape the forms write.
    assert clean_metadata(block_type, typed) == typed
    # The date the migration stores is the one the app derives.
    assert MIGRATION.valid_until(block_type, typed) == facts.valid_until(block_type, typed)
    back = MIGRATION.to_legacy(block_type, typed)
    for key, value in legacy.items():
        if block_type == "company-profile" and key == "siret":
            assert back[key] == "82461357400014"
        elif block_type == "person-cv" and key == "qualifications":
            assert sorted(back[key]) == sorted(value)
        elif key == "phases":  # rows are ordered: the order comes back renumbered
            assert back[key] == sorted(value, key=lambda phase: phase["order"])
        else:
            assert back[key] == value, key
    assert MIGRATION.to_typed(block_type, MIGRATION.to_typed(block_type, legacy)) == typed


def test_recognised_schemes_and_equipment_details():
    typed = MIGRATION.to_typed("equipment", LEGACY["equipment"])
    assert typed["designation"] == "Potain MDT 219"
    assert typed["ownership"] == "owned" and "owned" not in typed
    assert typed["capacity"] == "10 t" and typed["max_load_t"] == 10
    assert typed["inspections"] == [
        {"kind": "periodic", "next_on": "2026-06-30", "mandatory": True}
    ]
    for issuer, scheme in [
        ("AFNOR Certification", "other"),
        ("Bureau Veritas ISO 14001", "iso-14001"),
    ]:
        meta = {"issuer": issuer, "number": "1", "valid_until": "2030-01-01"}
        assert MIGRATION.to_typed("certification", meta)["scheme"] == scheme


@pytest.mark.migrations
def test_migrate_converts_blocks_and_versions_and_reverses(scratch_db):
    scratch_db.manage("migrate")
    scratch_db.manage("migrate", "library", "0006")
    # Rows in the old shape, written without save() (which derives valid_until).
    script = f"""
import json
from tests.factories import CompanyFactory, UserFactory
legacy = json.loads({json.dumps(LEGACY)!r})
company = CompanyFactory()
user = UserFactory(company=company)
# Blocks and versions as the tables were at library.0006 (the models have columns
# added since, such as the blocks' embeddings, and versions carry their company now).
from django.db import connection
with connection.cursor() as cursor:
    for t, m in legacy.items():
        cursor.execute(
            "INSERT INTO content_blocks (company_id, type, title, content, metadata, created_by)"
            " VALUES (%s, %s, %s, 'x', %s, %s)",
            [company.pk, t, t, json.dumps(m), user.pk],
        )
    cursor.execute(
        "INSERT INTO content_block_versions (id, block_id, version, type, title, content,"
        " metadata, tags, is_active, replaced_at, changes) SELECT gen_random_uuid(), id, 1,"
        " type, title, 'x', metadata, tags, is_active, now(), '{{}}' FROM content_blocks"
    )
"""
    scratch_db.manage("shell", "-c", script)
    scratch_db.manage("migrate", "library")

    rows = dict(scratch_db.execute("SELECT type::text, metadata FROM content_blocks"))
    versions = dict(scratch_db.execute("SELECT type::text, metadata FROM content_block_versions"))
    for block_type, legacy in LEGACY.items():
        assert rows[block_type] == MIGRATION.to_typed(block_type, legacy)
        assert versions[block_type] == rows[block_type]
    until = dict(scratch_db.execute("SELECT type::text, valid_until FROM content_blocks"))
    assert until == {
        "person-cv": datetime.date(2027, 3, 31),
        "equipment": datetime.date(2026, 6, 30),
        "certification": datetime.date(2028, 9, 30),
        "procedure": datetime.date(2027, 1, 31),
        "methodology-template": None,
        "company-profile": None,
        "past-project-reference": None,
    }
    assert scratch_db.execute(
        "SELECT 1 FROM pg_indexes WHERE indexname = 'idx_content_blocks_company_valid'"
    )

    scratch_db.manage("migrate", "library", "0005")
    rows = dict(scratch_db.execute("SELECT type::text, metadata FROM content_blocks"))
    assert rows["certification"] == LEGACY["certification"]
    assert rows["equipment"]["valid_until"] == "2026-06-30"
    assert rows["equipment"]["owned"] is True
    assert sorted(rows["person-cv"]["qualifications"]) == sorted(
        LEGACY["person-cv"]["qualifications"]
    )
    assert rows["person-cv"]["valid_until"] == "2027-03-31"
    assert rows["methodology-template"] == LEGACY["methodology-template"] | {
        "phases": [
            {"order": 1, "name": "Préparation", "duration_weeks": 4},
            {"order": 2, "name": "Gros œuvre", "duration_weeks": 20},
        ]
    }
    columns = scratch_db.execute(
        "SELECT 1 FROM information_schema.columns "
        "WHERE table_name = 'content_blocks' AND column_name = 'valid_until'"
    )
    assert columns == []
    scratch_db.manage("migrate")  # and forward again
