"""The demo data of ``fixtures/demo.json`` and the deployment check that guards it."""

from __future__ import annotations

import json
import re
from collections import Counter
from io import StringIO
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib.auth import authenticate
from django.contrib.auth.hashers import check_password
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.db import connection
from django.test import Client

from library import facts
from library.metadata import clean_metadata
from library.models import BlockType, ContentBlock, PastProject, SectionTemplate
from projects.models import ContentMatch, GenerationStatus, Project, RCAnalysis, Section
from tenants.checks import DEMO_PASSWORD_ERROR_ID, check_demo_passwords
from tenants.demo import DEMO_EMAILS, DEMO_PASSWORD
from tenants.models import Company, Role, User
from tests.factories import PROJECT_APPS
from tests.scratch import ScratchDatabase

DEMO_FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "demo.json"
DEMO_OBJECTS = json.loads(DEMO_FIXTURE.read_text(encoding="utf-8"))
DEMO_MODELS = sorted({obj["model"] for obj in DEMO_OBJECTS})
DEMO_COMPANY_NAME = "Enpyco Demo Company"

#: Metadata keys each block type must carry (the typed facts of library.facts).
METADATA_KEYS = {
    BlockType.COMPANY_PROFILE: {"siret", "headcount", "revenue"},
    BlockType.PERSON_CV: {"name", "role", "years_experience", "diplomas", "qualifications"},
    BlockType.EQUIPMENT: {"designation", "make", "model", "quantity", "inspections"},
    BlockType.PROCEDURE: {"reference", "revision"},
    BlockType.CERTIFICATION: {"scheme", "body", "number", "valid_until"},
    BlockType.METHODOLOGY_TEMPLATE: {"placeholders", "phases"},
    BlockType.PAST_PROJECT_REFERENCE: {"client", "year", "amount", "lot"},
}

PLACEHOLDER = re.compile(r"\{(\w+)\}")


def load_demo() -> str:
    """``manage.py loaddata demo`` (found through FIXTURE_DIRS); returns its output."""
    out = StringIO()
    call_command("loaddata", "demo", stdout=out)
    return out.getvalue()


def snapshot() -> dict[str, list[dict]]:
    """Every row of every model of the project's apps, in primary-key order."""
    return {
        model._meta.label: list(model.objects.order_by("pk").values())
        for label in PROJECT_APPS
        for model in apps.get_app_config(label).get_models()
    }


def run_deploy_check(**options) -> str:
    out, err = StringIO(), StringIO()
    call_command("check", deploy=True, stdout=out, stderr=err, **options)
    return out.getvalue() + err.getvalue()


@pytest.fixture
def demo(db) -> Company:
    load_demo()
    return Company.objects.get(name=DEMO_COMPANY_NAME)


# --- Loading -----------------------------------------------------------------------


def test_loaddata_demo_installs_every_object_of_the_file(db):
    assert f"Installed {len(DEMO_OBJECTS)} object(s) from 1 fixture(s)" in load_demo()
    for obj in DEMO_OBJECTS:
        model = apps.get_model(obj["model"])
        assert model.objects.filter(pk=obj["pk"]).exists(), obj["model"]


def test_loading_twice_leaves_the_same_rows(db):
    load_demo()
    first = snapshot()
    load_demo()
    second = snapshot()

    assert {label: len(rows) for label, rows in second.items()} == {
        label: len(rows) for label, rows in first.items()
    }
    assert second == first


def test_fixture_pins_every_column_that_has_a_database_default():
    """Rows reloaded with a column left out would take a new ``now()`` each time."""
    for obj in DEMO_OBJECTS:
        model = apps.get_model(obj["model"])
        for field in model._meta.concrete_fields:
            if field.has_db_default() and not field.primary_key:
                assert field.name in obj["fields"], f"{obj['model']}.{field.name}"


# --- Content -----------------------------------------------------------------------


def test_demo_company(demo):
    assert demo.city
    assert demo.postal_code
    certifications = " ".join(demo.certifications)
    for name in ("Qualibat", "ISO 9001", "MASE"):
        assert name in certifications


def test_demo_users_have_one_role_each(demo):
    users = {user.email: user for user in User.objects.filter(company=demo)}
    assert sorted(users) == sorted(DEMO_EMAILS)
    assert {email: user.role for email, user in users.items()} == {
        "admin@enpyco.com": Role.ADMIN,
        "user@enpyco.com": Role.USER,
        "viewer@enpyco.com": Role.VIEWER,
    }
    for user in users.values():
        assert user.is_active
        assert user.is_staff
        assert not user.is_superuser
        assert user.full_name
        assert check_password(DEMO_PASSWORD, user.password)


def test_one_content_block_of_each_type(demo):
    blocks = ContentBlock.objects.filter(company=demo)
    assert Counter(blocks.values_list("type", flat=True)) == dict.fromkeys(BlockType.values, 1)


@pytest.mark.parametrize("block_type", BlockType.values)
def test_content_block_carries_its_type_metadata(demo, block_type):
    block = ContentBlock.objects.get(company=demo, type=block_type)
    assert METADATA_KEYS[block_type] <= block.metadata.keys()
    assert block.tags
    # In the shape the forms write, and with the validity its facts give (loaddata
    # does not call save(): the fixture carries valid_until itself).
    assert clean_metadata(block.type, block.metadata) == block.metadata
    assert block.valid_until == facts.valid_until(block.type, block.metadata)
    assert block.created_by.company == demo


def test_the_demo_cv_has_dated_qualifications_and_the_crane_an_inspection(demo):
    cv = facts.read(ContentBlock.objects.get(company=demo, type=BlockType.PERSON_CV))
    dated = [q for q in cv.qualifications if q.expires_on]
    assert len(dated) >= 2 and cv.diplomas
    crane = facts.read(ContentBlock.objects.get(company=demo, type=BlockType.EQUIPMENT))
    assert crane.inspections and crane.inspections[0].next_on


def test_methodology_template_declares_the_placeholders_it_uses(demo):
    block = ContentBlock.objects.get(company=demo, type=BlockType.METHODOLOGY_TEMPLATE)
    assert set(PLACEHOLDER.findall(block.content)) == set(block.metadata["placeholders"])


def test_section_template_declares_the_placeholders_it_uses(demo):
    template = SectionTemplate.objects.get(company=demo)
    assert set(PLACEHOLDER.findall(template.template_content)) == template.placeholders.keys()
    assert all(template.placeholders.values())


def test_past_project_reference_points_to_the_past_project(demo):
    block = ContentBlock.objects.get(company=demo, type=BlockType.PAST_PROJECT_REFERENCE)
    past = PastProject.objects.get(pk=block.metadata["past_project_id"], company=demo)
    assert (past.client, past.year) == (block.metadata["client"], block.metadata["year"])


def test_sample_project_is_consistent(demo):
    project = Project.objects.get(company=demo)
    block_ids = set(ContentBlock.objects.filter(company=demo).values_list("pk", flat=True))
    assert project.created_by.company == demo
    assert project.client and project.location and project.lot and project.deadline

    sections = list(project.sections.order_by("order_num"))
    assert 3 <= len(sections) <= 5
    assert any(section.generated_by_ai for section in sections)
    for section in sections:
        assert set(section.source_blocks) <= block_ids
        if section.reviewer is not None:
            assert section.reviewer.company == demo

    matches = list(ContentMatch.objects.filter(project=project))
    assert 2 <= len(matches) <= 4
    required = {item["id"] for item in project.rc_analysis.required_sections}
    for match in matches:
        assert match.matched_blocks
        assert set(match.matched_blocks) <= block_ids
        assert 0 <= match.confidence <= 1
        assert match.requirement_id in required


def test_rc_analysis_scoring_criteria_add_up(demo):
    analysis = RCAnalysis.objects.get(project__company=demo)
    criteria = analysis.scoring_criteria
    assert {name: c["weight"] for name, c in criteria.items()} == {
        "valeur technique": 60,
        "prix": 40,
    }
    technical = criteria["valeur technique"]
    assert sum(technical["sub_criteria"].values()) == technical["weight"]
    assert analysis.required_sections
    assert analysis.special_requirements
    assert analysis.format
    assert 0 <= analysis.confidence_score <= 1


def test_generation_request_is_completed_with_its_cost(demo):
    request = Project.objects.get(company=demo).generation_requests.get()
    assert request.status == GenerationStatus.COMPLETED
    assert request.model_used
    assert request.tokens_used > 0
    assert request.cost_usd > 0
    assert request.latency_seconds > 0
    assert request.completed_at > request.created_at
    assert Section.objects.filter(
        project=request.project, section_type=request.section_type, generated_by_ai=True
    ).exists()


# --- Logging in ------------------------------------------------------------------------


@pytest.mark.parametrize("email", DEMO_EMAILS)
def test_demo_accounts_log_in_with_debug_on(demo, settings, email):
    settings.DEBUG = True
    assert Client().login(email=email, password=DEMO_PASSWORD)
    user = authenticate(username=email.upper(), password=DEMO_PASSWORD)
    assert user is not None
    assert user.email == email


@pytest.mark.parametrize("email", DEMO_EMAILS)
def test_demo_password_is_refused_with_debug_off(demo, settings, email):
    settings.DEBUG = False
    assert not Client().login(email=email, password=DEMO_PASSWORD)
    assert authenticate(username=email, password=DEMO_PASSWORD) is None


def test_demo_accounts_log_in_with_debug_off_once_their_password_changed(demo, settings):
    settings.DEBUG = False
    user = User.objects.get(email="admin@enpyco.com")
    user.set_password("Mot-de-passe-de-production-2026")
    user.save()
    assert Client().login(email=user.email, password="Mot-de-passe-de-production-2026")


# --- Deployment check ----------------------------------------------------------------


def test_deploy_check_fails_while_the_demo_password_is_set(demo):
    with pytest.raises(SystemCheckError) as raised:
        run_deploy_check()
    message = str(raised.value)
    assert DEMO_PASSWORD_ERROR_ID in message
    for email in DEMO_EMAILS:
        assert email in message


def test_deploy_check_names_only_the_accounts_still_exposed(demo):
    for user in User.objects.filter(email__in=DEMO_EMAILS[:2]):
        user.set_password("Mot-de-passe-de-production-2026")
        user.save()

    [error] = check_demo_passwords()
    assert error.id == DEMO_PASSWORD_ERROR_ID
    assert DEMO_EMAILS[2] in error.msg
    assert DEMO_EMAILS[0] not in error.msg
    assert DEMO_EMAILS[1] not in error.msg


def test_deploy_check_passes_once_every_demo_password_changed(demo):
    for user in User.objects.filter(email__in=DEMO_EMAILS):
        user.set_password("Mot-de-passe-de-production-2026")
        user.save()

    assert check_demo_passwords() == []
    # Other deploy checks may report what they like; ours must be silent.
    assert DEMO_PASSWORD_ERROR_ID not in run_deploy_check(fail_level="CRITICAL")


def test_deploy_check_ignores_a_database_without_demo_accounts(db):
    assert check_demo_passwords() == []


def test_plain_check_leaves_the_demo_accounts_alone(demo):
    """Development databases have the demo accounts: only ``--deploy`` reports them."""
    out, err = StringIO(), StringIO()
    call_command("check", stdout=out, stderr=err)
    assert DEMO_PASSWORD_ERROR_ID not in out.getvalue() + err.getvalue()


def test_deploy_check_skips_a_missing_table_without_breaking_the_transaction(demo):
    # The tables out of sight, as on a database that was never migrated.
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL search_path = pg_catalog")
    assert check_demo_passwords() == []
    # The failed query ran in a savepoint: the test's transaction is still usable.
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM public.users")
        assert cursor.fetchone() == (3,)
        cursor.execute('SET LOCAL search_path = "$user", public')


def test_deploy_check_skips_an_unmigrated_database(scratch_db):
    result = scratch_db.manage("check", "--deploy")
    assert DEMO_PASSWORD_ERROR_ID not in result.stdout + result.stderr


def test_deploy_check_skips_an_unreachable_database():
    # Nothing listens on port 1: the connection is refused at once.
    nowhere = ScratchDatabase("nowhere", {"host": "127.0.0.1", "port": 1, "user": "nobody"})
    result = nowhere.manage("check", "--deploy")
    assert DEMO_PASSWORD_ERROR_ID not in result.stdout + result.stderr


@pytest.mark.migrations
def test_demo_data_in_a_freshly_migrated_database(scratch_db):
    """The README's path: migrate, ``loaddata demo`` (twice), and ``check --deploy`` fails."""
    scratch_db.manage("migrate", "--no-input")
    scratch_db.manage("loaddata", "demo")
    scratch_db.manage("loaddata", "demo")
    counts = {
        table: scratch_db.execute(f"SELECT count(*) FROM {table}")[0][0]
        for table in ("companies", "users", "content_blocks", "sections")
    }
    assert counts == {"companies": 1, "users": 3, "content_blocks": 7, "sections": 4}

    result = scratch_db.manage("check", "--deploy", check=False)
    assert result.returncode != 0
    assert DEMO_PASSWORD_ERROR_ID in result.stderr
