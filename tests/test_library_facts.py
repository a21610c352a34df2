"""Typed facts of content blocks: French input, the admin forms with rows, the validity
derived from the dates, and the typed API other code reads."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from library import facts
from library.models import BlockType, ContentBlock
from library.parsing import format_decimal, parse_date, parse_decimal, parse_siret
from library.services import restore_version, save_block
from tests.admin_helpers import form_data
from tests.factories import CompanyFactory, ContentBlockFactory, UserFactory

MONTHS = "janvier février mars avril mai juin juillet août septembre octobre novembre décembre"


def in_french(day: datetime.date) -> str:
    """ "31 mars 2027"."""
    return f"{day.day} {MONTHS.split()[day.month - 1]} {day.year}"


TODAY = timezone.localdate()
SOON = TODAY + datetime.timedelta(days=120)
LATER = TODAY + datetime.timedelta(days=700)


# --- reading what users write --------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("31 mars 2027", datetime.date(2027, 3, 31)),
        ("1er avril 2026", datetime.date(2026, 4, 1)),
        ("3 AOÛT 2026", datetime.date(2026, 8, 3)),
        ("14 févr. 2026", datetime.date(2026, 2, 14)),
        ("31/03/2027", datetime.date(2027, 3, 31)),
        ("31.03.2027", datetime.date(2027, 3, 31)),
        ("5/4/27", datetime.date(2027, 4, 5)),
        ("2027-03-31", datetime.date(2027, 3, 31)),
        (" 31\u00a0mars\u00a02027 ", datetime.date(2027, 3, 31)),
    ],
)
def test_french_dates(text, expected):
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("31 février 2027", "n’existe pas"),
        ("31 brumaire 2027", "n’est pas un mois"),
        ("bientôt", "31/03/2027"),
        ("mars 2027", "31/03/2027"),
    ],
)
def test_wrong_dates_say_why(text, message):
    with translation.override("fr"), pytest.raises(ValueError, match=message):
        parse_date(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("4 200 000,50", Decimal("4200000.50")),
        ("4\u202f200\u202f000 €", Decimal("4200000")),
        ("4.200.000", Decimal("4200000")),
        ("12,5", Decimal("12.5")),
        ("12.5", Decimal("12.5")),
        (4200000, Decimal("4200000")),
    ],
)
def test_french_numbers(text, expected):
    assert parse_decimal(text) == expected


def test_numbers_are_shown_as_french_users_write_them():
    assert format_decimal(4200000.5) == "4\u00a0200\u00a0000,5"


@translation.override("fr")
def test_siret_with_spaces_and_its_check_digit():
    assert parse_siret("824 613 574 00014") == "82461357400014"
    assert parse_siret("356 000 000 00001") == "35600000000001"  # La Poste's own rule
    with pytest.raises(ValueError, match="14 chiffres"):
        parse_siret("824 613 574")
    with pytest.raises(ValueError, match="clé de contrôle"):
        parse_siret("824 613 574 00015")


# --- the typed API ---------------------------------------------------------------------


def test_typed_access_and_validity_of_each_type():
    cv = facts.read(
        "person-cv",
        {
            "name": "Marc Dubois",
            "qualifications": [
                {"kind": "caces", "label": "R482 cat. A", "expires_on": "2027-03-31"},
                {"kind": "sst", "expires_on": "2026-10-14", "mandatory": False},
                {"kind": "electrical", "label": "B1V", "expires_on": "2027-10-01"},
            ],
        },
    )
    assert isinstance(cv.qualifications[0], facts.Qualification)
    assert cv.qualifications[0].expires_on == datetime.date(2027, 3, 31)
    # The SST is not required for the role: the CACES decides.
    assert cv.validity() == facts.Validity(datetime.date(2027, 3, 31), "CACES R482 cat. A")
    crane = facts.read(
        "equipment",
        {
            "designation": "Grue",
            "inspections": [
                {"kind": "periodic", "last_on": "2026-01-10", "next_on": "2026-07-10"},
                {
                    "kind": "other",
                    "label": "Anémomètre",
                    "next_on": "2026-03-01",
                    "mandatory": False,
                },
            ],
        },
    )
    assert crane.validity().until == datetime.date(2026, 7, 10)
    cert = facts.read(
        "certification", {"scheme": "mase", "number": "M-1", "valid_until": "2028-01-31"}
    )
    assert cert.validity() == facts.Validity(datetime.date(2028, 1, 31), "MASE M-1")
    ref = facts.read(
        "past-project-reference",
        {"client": "Ville de Lyon", "amount": 4200000, "year": 2023, "lot": "Lot 02"},
    )
    assert (ref.client, ref.amount, ref.year, ref.lot) == ("Ville de Lyon", 4200000, 2023, "Lot 02")
    assert facts.validity("past-project-reference", {"client": "X"}) is None


# --- the admin forms ---------------------------------------------------------------------


@pytest.fixture
def member(db):
    return UserFactory()


@pytest.fixture
def client(member):
    from django.test import Client

    client = Client(headers={"accept-language": "fr"})
    client.force_login(member)
    return client


ADD = "admin:library_contentblock_add"


def _cv_post(client, **changes):
    """The add form of a CV as a browser sends it, with two qualification rows."""
    data = form_data(client.get(reverse(ADD)), "contentblock_form")
    data.update(
        {
            "type": "person-cv",
            "title": "CV — Marc Dubois",
            "content": "Conducteur de travaux principal.",
            "tags": "cv",
            "person-cv-name": "Marc Dubois",
            "person-cv-role": "Conducteur de travaux",
            "person-cv-years_experience": "18",
            "person-cv-diplomas": "BTS Bâtiment\r\nLicence pro Conduite de travaux; Bac pro",
            "person-cv-qualifications-TOTAL_FORMS": "2",
            "person-cv-qualifications-0-kind": "caces",
            "person-cv-qualifications-0-label": "R482 cat. A",
            "person-cv-qualifications-0-obtained_on": "12/01/2024",
            "person-cv-qualifications-0-expires_on": in_french(LATER),
            "person-cv-qualifications-0-mandatory": "on",
            "person-cv-qualifications-1-kind": "sst",
            "person-cv-qualifications-1-label": "",
            "person-cv-qualifications-1-obtained_on": "14 octobre 2024",
            "person-cv-qualifications-1-expires_on": SOON.strftime("%d/%m/%Y"),
            "person-cv-qualifications-1-mandatory": "on",
        }
    )
    data.update(changes)
    return client.post(reverse(ADD), data)


def test_a_cv_with_two_dated_qualifications_is_written_in_french(client, member):
    response = _cv_post(client)
    assert response.status_code == 302, response.context["adminform"].form.errors
    block = ContentBlock.objects.get(company=member.company)
    assert block.metadata == {
        "name": "Marc Dubois",
        "role": "Conducteur de travaux",
        "years_experience": 18,
        "diplomas": ["BTS Bâtiment", "Licence pro Conduite de travaux", "Bac pro"],
        "qualifications": [
            {
                "kind": "caces",
                "label": "R482 cat. A",
                "obtained_on": "2024-01-12",
                "expires_on": LATER.isoformat(),
                "mandatory": True,
            },
            {
                "kind": "sst",
                "obtained_on": "2024-10-14",
                "expires_on": SOON.isoformat(),
                "mandatory": True,
            },
        ],
    }
    assert block.valid_until == SOON  # the earliest mandatory expiry
    assert list(ContentBlock.objects.for_company(member.company).expiring(SOON)) == [block]

    # The change page shows the rows with their dates, and no JSON to type.
    page = client.get(reverse("admin:library_contentblock_change", args=[block.pk]))
    html = page.content.decode()
    assert 'name="metadata"' not in html
    assert f'value="{SOON.strftime("%d/%m/%Y")}"' in html
    assert "Qualifications" in html and "Expire le" in html and "Obtenue le" in html
    assert "échéance la plus proche" in html and "SST" in html


def test_wrong_facts_are_refused_with_french_errors_and_change_nothing(client, member):
    response = _cv_post(
        client,
        **{
            "person-cv-qualifications-0-expires_on": "31 février 2027",
            "person-cv-qualifications-1-obtained_on": in_french(LATER),  # after its expiry
            "person-cv-years_experience": "dix-huit",
        },
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Cette date n’existe pas." in html
    assert "La date d’expiration est antérieure à la date d’obtention." in html
    assert "Saisissez un nombre" in html
    assert not ContentBlock.objects.exists()


def test_a_row_with_dates_but_no_kind_is_refused_and_a_blank_row_ignored(client, member):
    response = _cv_post(
        client,
        **{
            "person-cv-qualifications-TOTAL_FORMS": "3",
            "person-cv-qualifications-1-kind": "",
            "person-cv-qualifications-2-kind": "",
            "person-cv-qualifications-2-mandatory": "on",
        },
    )
    assert response.status_code == 200
    assert "Ce champ est obligatoire." in response.content.decode()
    response = _cv_post(
        client,
        **{
            "person-cv-qualifications-TOTAL_FORMS": "3",
            "person-cv-qualifications-2-kind": "",
            "person-cv-qualifications-2-mandatory": "on",
        },
    )
    assert response.status_code == 302
    assert len(ContentBlock.objects.get().metadata["qualifications"]) == 2


def test_rows_are_deleted_and_other_facts_kept_on_edit(client, member):
    block = ContentBlockFactory(
        company=member.company,
        type=BlockType.PERSON_CV,
        metadata={
            "name": "Marc Dubois",
            "role": "Chef de chantier",
            "qualifications": [
                {"kind": "caces", "label": "R482 cat. A", "expires_on": SOON.isoformat()},
                {"kind": "sst", "expires_on": LATER.isoformat()},
            ],
            "permis": "B",
            "effectif_encadre": 12,
            "langues": ["fr", "es"],
        },
    )
    assert block.valid_until == SOON
    url = reverse("admin:library_contentblock_change", args=[block.pk])
    data = form_data(client.get(url), "contentblock_form")
    assert sorted(data["other-facts-key"]) == ["", "effectif_encadre", "permis"]
    data["person-cv-qualifications-0-DELETE"] = "on"
    keys, values = data["other-facts-key"], data["other-facts-value"]
    keys[-1], values[-1] = "véhicule", "Utilitaire"
    assert client.post(url, data).status_code == 302
    block.refresh_from_db()
    assert [q["kind"] for q in block.metadata["qualifications"]] == ["sst"]
    assert block.valid_until == LATER
    assert block.metadata["permis"] == "B"
    assert block.metadata["effectif_encadre"] == 12  # still a number: its text is unchanged
    assert block.metadata["langues"] == ["fr", "es"]  # a list, which no row shows
    assert block.metadata["véhicule"] == "Utilitaire"
    assert block.version == 2


def test_an_other_fact_cannot_shadow_a_typed_one(client, member):
    block = ContentBlockFactory(company=member.company, type=BlockType.CERTIFICATION)
    url = reverse("admin:library_contentblock_change", args=[block.pk])
    data = form_data(client.get(url), "contentblock_form")
    data["other-facts-key"], data["other-facts-value"] = "valid_until", "2099-01-01"
    response = client.post(url, data)
    assert response.status_code == 200
    assert "« valid_until » est un champ du formulaire" in response.content.decode()


def test_changing_the_type_keeps_the_former_facts(client, member):
    block = ContentBlockFactory(company=member.company, type=BlockType.EQUIPMENT)
    url = reverse("admin:library_contentblock_change", args=[block.pk])
    data = form_data(client.get(url), "contentblock_form")
    data.update({"type": "procedure", "procedure-reference": "PR-LEV-01"})
    assert client.post(url, data).status_code == 302
    block.refresh_from_db()
    assert block.metadata["reference"] == "PR-LEV-01"
    assert block.metadata["designation"] == "Grue à tour Potain MDT 219"  # kept
    assert block.valid_until is None  # a procedure without a review date


def test_a_company_profile_takes_a_siret_with_spaces_and_refuses_a_wrong_one(client, member):
    block = ContentBlockFactory(company=member.company, type=BlockType.COMPANY_PROFILE)
    url = reverse("admin:library_contentblock_change", args=[block.pk])
    page = client.get(url)
    assert 'value="824 613 574 00014"' in page.content.decode()
    data = form_data(page, "contentblock_form")
    data["company-profile-siret"] = "824 613 574 00015"
    data["company-profile-revenue"] = "14 500 000,50"
    response = client.post(url, data)
    assert "clé de contrôle" in response.content.decode()
    data["company-profile-siret"] = "732 829 320 00074"
    assert client.post(url, data).status_code == 302
    block.refresh_from_db()
    assert (block.metadata["siret"], block.metadata["revenue"]) == ("73282932000074", 14500000.5)


def test_viewers_read_the_facts_without_any_input(member):
    from django.test import Client

    block = ContentBlockFactory(company=member.company, type=BlockType.PERSON_CV)
    viewer = Client(headers={"accept-language": "fr"})
    viewer.force_login(UserFactory(company=member.company, role="viewer"))
    html = viewer.get(
        reverse("admin:library_contentblock_change", args=[block.pk])
    ).content.decode()
    assert "Marc Dubois" in html and "10/03/2030" in html
    assert 'name="person-cv-' not in html and 'name="other-facts-key"' not in html


def test_the_list_shows_the_validity_and_the_fact_deciding_it(client, member):
    ContentBlockFactory(
        company=member.company,
        type=BlockType.PERSON_CV,
        title="CV périmé",
        metadata={
            "name": "A",
            "role": "B",
            "qualifications": [
                {"kind": "aipr", "expires_on": (TODAY - datetime.timedelta(days=1)).isoformat()}
            ],
        },
    )
    ContentBlockFactory(company=member.company, type=BlockType.PROCEDURE, title="Sans date")
    url = reverse("admin:library_contentblock_changelist")
    response = client.get(url, {"validity": "expired"})
    assert [b.title for b in response.context["cl"].result_list] == ["CV périmé"]
    html = response.content.decode()
    assert "périmé" in html and 'title="AIPR' in html


# --- the stored validity stays consistent ------------------------------------------------


@pytest.mark.django_db
def test_every_save_path_keeps_valid_until_consistent():
    block = ContentBlockFactory(type=BlockType.CERTIFICATION)
    assert block.valid_until == datetime.date(2030, 1, 1)
    editor = UserFactory(company=block.company)
    block.metadata = {**block.metadata, "valid_until": "2031-06-30"}
    save_block(block.company, block, user=editor, expected_version=1)
    assert ContentBlock.objects.get(pk=block.pk).valid_until == datetime.date(2031, 6, 30)
    restore_version(block.company, block.pk, 1, user=editor)
    assert ContentBlock.objects.get(pk=block.pk).valid_until == datetime.date(2030, 1, 1)
    block.refresh_from_db()
    block.metadata = {**block.metadata, "valid_until": "2032-01-01"}
    block.save(update_fields=["metadata"])
    assert ContentBlock.objects.get(pk=block.pk).valid_until == datetime.date(2032, 1, 1)


@pytest.mark.django_db
def test_valid_on_and_expires_before():
    company = CompanyFactory()

    def cert(until):
        return ContentBlockFactory(
            company=company,
            type=BlockType.CERTIFICATION,
            metadata={"scheme": "rge", "number": "1", "body": "Qualibat", "valid_until": until},
        )

    old, deadline_day, later = cert("2026-03-01"), cert("2026-06-30"), cert("2027-01-01")
    undated = ContentBlockFactory(company=company, type=BlockType.PROCEDURE)
    blocks = ContentBlock.objects.for_company(company)
    on = datetime.date(2026, 6, 30)
    assert set(blocks.valid_on(on)) == {deadline_day, later, undated}
    assert list(blocks.expires_before(on)) == [old]
    assert set(ContentBlock.objects.for_company(CompanyFactory()).valid_on(on)) == set()


def test_a_post_without_the_rows_keeps_them(client, member):
    """A script that posts only some fields (no formset management form, no other-facts
    rows) changes those fields and leaves the rows and other facts as they were."""
    block = ContentBlockFactory(
        company=member.company,
        type=BlockType.PERSON_CV,
        metadata={
            "name": "Marc Dubois",
            "role": "Chef de chantier",
            "qualifications": [{"kind": "sst", "expires_on": LATER.isoformat()}],
            "permis": "B",
        },
    )
    url = reverse("admin:library_contentblock_change", args=[block.pk])
    data = {
        k: v
        for k, v in form_data(client.get(url), "contentblock_form").items()
        if not k.startswith(("person-cv-qualifications-", "other-facts-"))
    }
    data["person-cv-role"] = "Conducteur de travaux"
    assert client.post(url, data).status_code == 302
    block.refresh_from_db()
    assert block.metadata["role"] == "Conducteur de travaux"
    assert block.metadata["qualifications"][0]["kind"] == "sst"
    assert block.metadata["permis"] == "B" and block.valid_until == LATER


def _storable(value) -> bool:
    """No NUL character, no number beyond what a fact may hold (texts may be long)."""
    if isinstance(value, dict):
        return all(_storable(k) and _storable(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_storable(v) for v in value)
    if isinstance(value, str):
        return "\x00" not in value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return abs(value) < 10**15
    return True


HOSTILE = ["avant\x00après", "9" * 5000]  # NUL (jsonb refuses it), a 5,000-digit number


@pytest.mark.parametrize("block_type", BlockType.values)
def test_hostile_facts_are_refused_without_a_500(client, member, block_type):
    """Every fact of every type, every row cell and the other facts' rows, posted with
    values the database or the JSON encoder would refuse: never a 500, and nothing of
    them stored (a long text where long texts are allowed may be saved)."""
    block = ContentBlockFactory(company=member.company, type=block_type)
    url = reverse("admin:library_contentblock_change", args=[block.pk])

    def fresh_form():
        return form_data(client.get(url), "contentblock_form")

    data = fresh_form()
    names = [
        name
        for name in data
        if name.startswith((f"{block_type}-", "other-facts-"))
        and not name.endswith(("TOTAL_FORMS", "INITIAL_FORMS", "MIN_NUM_FORMS", "MAX_NUM_FORMS"))
        and "-1-" not in name  # one row of each formset is enough
    ]
    assert names
    problems = []
    for name in names:
        for value in HOSTILE:
            response = client.post(url, {**data, name: value})
            if response.status_code >= 500:
                problems.append(f"{name}={value[:20]!r}: {response.status_code}")
            elif response.status_code == 302:
                block.refresh_from_db()
                if not _storable(block.metadata):
                    problems.append(f"{name}={value[:20]!r}: stored")
                data = fresh_form()
    assert problems == []
