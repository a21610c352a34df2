"""The content library in the admin: French search box, validity and tag filters,
history and restore, deletion refused while a block is used, file upload."""

from __future__ import annotations

import datetime

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone

from library.models import BlockType, ContentBlock, StoredFile
from projects.models import ContentMatch
from tests.admin_helpers import admin_client, form_data
from tests.documents import make_pdf
from tests.factories import (
    ContentBlockFactory,
    ContentMatchFactory,
    ProjectFactory,
    SectionFactory,
    StoredFileFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def member():
    return UserFactory()


@pytest.fixture
def client(member):
    return admin_client(member)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


def _titles(response) -> list[str]:
    return [str(obj.title) for obj in response.context["cl"].result_list]


def test_search_box_is_french_full_text(client, member):
    ContentBlockFactory(
        company=member.company, title="Parc matériel", content="Nos equipements de levage."
    )
    ContentBlockFactory(company=member.company, title="Déchets", content="Tri sélectif.")
    url = reverse("admin:library_contentblock_changelist")
    assert _titles(client.get(url, {"q": "équipement"})) == ["Parc matériel"]
    assert _titles(client.get(url, {"q": "materiel"})) == ["Parc matériel"]


def test_validity_column_and_filter(client, member):
    today = timezone.localdate()

    def cert(title, days):
        return ContentBlockFactory(
            company=member.company,
            type=BlockType.CERTIFICATION,
            title=title,
            metadata={
                "issuer": "Q",
                "number": "1",
                "valid_until": (today + datetime.timedelta(days=days)).isoformat(),
            },
        )

    cert("Périmé", -3)
    cert("Bientôt", 30)
    cert("Valable", 400)
    url = reverse("admin:library_contentblock_changelist")
    assert _titles(client.get(url, {"validity": "expired"})) == ["Périmé"]
    assert _titles(client.get(url, {"validity": "expiring"})) == ["Bientôt"]
    assert _titles(client.get(url, {"validity": "valid"})) == ["Valable"]
    html = client.get(url).content.decode()
    assert "expired" in html and "expires" in html


def test_tag_filter_offers_the_company_tags_only(client, member):
    ContentBlockFactory(company=member.company, title="Grue", tags=["levage", "grue"])
    ContentBlockFactory(company=member.company, title="Béton", tags=["béton"])
    ContentBlockFactory(tags=["secret-concurrent"])  # another company
    from django.core.cache import cache

    cache.clear()
    url = reverse("admin:library_contentblock_changelist")
    response = client.get(url, {"tag": "levage"})
    assert _titles(response) == ["Grue"]
    html = response.content.decode()
    assert "?tag=b%C3%A9ton" in html and "secret-concurrent" not in html


def test_history_lists_versions_and_restores_one(client, member):
    block = ContentBlockFactory(company=member.company, title="Grue v1", content="Texte 1")
    change = reverse("admin:library_contentblock_change", args=[block.pk])
    data = form_data(client.get(change), "contentblock_form")
    data["content"] = "Texte 2"
    assert client.post(change, data).status_code == 302

    versions = client.get(reverse("admin:library_contentblock_versions", args=[block.pk]))
    assert versions.status_code == 200 and "Texte 1" in versions.content.decode()

    restore = reverse("admin:library_contentblock_restore", args=[block.pk, 1])
    assert client.get(restore).status_code == 405
    assert client.post(restore).status_code == 302
    block.refresh_from_db()
    assert (block.version, block.content) == (3, "Texte 1")
    assert sorted(block.versions.values_list("version", flat=True)) == [1, 2]


def test_viewers_see_history_but_cannot_restore(member):
    block = ContentBlockFactory(company=member.company)
    from library.services import save_block

    block.content = "v2"
    save_block(block.company, block, user=member, expected_version=1)
    viewer = admin_client(UserFactory(company=member.company, role="viewer"))
    page = viewer.get(reverse("admin:library_contentblock_versions", args=[block.pk]))
    assert page.status_code == 200 and "Restore" not in page.content.decode()
    assert (
        viewer.post(reverse("admin:library_contentblock_restore", args=[block.pk, 1])).status_code
        == 403
    )


def test_other_companys_history_is_not_found(client):
    other = ContentBlockFactory()
    response = client.get(reverse("admin:library_contentblock_versions", args=[other.pk]))
    assert response.status_code == 302 and response.url == reverse("admin:index")


def test_a_block_used_by_a_match_or_a_section_cannot_be_deleted(client, member):
    used = ContentBlockFactory(company=member.company, title="Utilisé")
    cited = ContentBlockFactory(company=member.company, title="Cité")
    free = ContentBlockFactory(company=member.company, title="Libre")
    project = ProjectFactory(company=member.company, name="Collège Jean-Moulin")
    ContentMatchFactory(project=project, requirement_id="REQ-3", matched_blocks=[used.pk])
    SectionFactory(project=project, source_blocks=[cited.pk])

    for block in (used, cited):
        page = client.get(reverse("admin:library_contentblock_delete", args=[block.pk]))
        assert (
            "Collège Jean-Moulin" in page.content.decode() and "deactivate" in page.content.decode()
        )
        client.post(reverse("admin:library_contentblock_delete", args=[block.pk]), {"post": "yes"})
        assert ContentBlock.objects.filter(pk=block.pk).exists()

    response = client.post(
        reverse("admin:library_contentblock_changelist"),
        {"action": "delete_selected", "_selected_action": [used.pk, free.pk], "post": "yes"},
    )
    assert ContentBlock.objects.filter(pk=used.pk).exists()
    assert ContentBlock.objects.filter(pk=free.pk).exists()  # all or nothing
    assert response.status_code == 200

    client.post(reverse("admin:library_contentblock_delete", args=[free.pk]), {"post": "yes"})
    assert not ContentBlock.objects.filter(pk=free.pk).exists()
    assert ContentMatch.objects.count() == 1


def test_uploading_a_file_stores_it_once_and_serves_it_to_the_company_only(client, member):
    data = make_pdf([["Attestation Qualibat"]])
    add = reverse("admin:library_storedfile_add")
    response = client.post(
        add, {"upload": ContentFile(data, name="qualibat.pdf"), "metadata": "{}"}
    )
    assert response.status_code == 302
    stored = StoredFile.objects.get()
    assert (stored.company_id, stored.uploaded_by_id, stored.filename) == (
        member.company_id,
        member.pk,
        "qualibat.pdf",
    )
    assert (
        stored.file_type == "application/pdf"
        and stored.size_bytes == len(data)
        and len(stored.sha256) == 64
    )

    again = client.post(
        add, {"upload": ContentFile(data, name="copie.pdf"), "metadata": "{}"}, follow=True
    )
    assert StoredFile.objects.count() == 1
    assert "already in the library" in again.content.decode()

    download = client.get(reverse("admin:library_storedfile_download", args=[stored.pk]))
    assert b"".join(download.streaming_content) == data
    assert "attachment" in download["Content-Disposition"]

    theirs = StoredFileFactory()
    assert (
        client.get(reverse("admin:library_storedfile_download", args=[theirs.pk])).status_code
        == 404
    )
    stranger = admin_client(UserFactory())
    assert (
        stranger.get(reverse("admin:library_storedfile_download", args=[stored.pk])).status_code
        == 404
    )
    assert (
        admin_client()
        .get(reverse("admin:library_storedfile_download", args=[stored.pk]))
        .status_code
        == 302
    )


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"MZ\x90\x00" + b"\x00" * 64, "cv.pdf", "not accepted"),
        (b"", "vide.pdf", "empty"),
    ],
)
def test_refused_uploads_show_a_form_error_and_store_nothing(client, data, name, message):
    response = client.post(
        reverse("admin:library_storedfile_add"),
        {"upload": ContentFile(data, name=name), "metadata": "{}"},
    )
    assert response.status_code == 200
    assert message in str(response.context["adminform"].form.errors)
    assert not StoredFile.objects.exists()


def test_metadata_written_as_rows_with_an_upload_is_kept_and_the_content_cannot_be_replaced(
    client, member
):
    add = reverse("admin:library_storedfile_add")
    client.post(
        add,
        {
            "upload": ContentFile(make_pdf([["CV"]]), name="cv.pdf"),
            "metadata-key": ["langue", "", "pages"],
            "metadata-value": ["fr", "", "12"],
        },
    )
    stored = StoredFile.objects.get()
    assert stored.metadata == {"langue": "fr", "pages": "12"}
    response = client.get(reverse("admin:library_storedfile_change", args=[stored.pk]))
    page = response.content.decode()
    assert 'name="upload"' not in page
    assert "<textarea" not in page  # no JSON to type
    # Saved again unchanged, the values stay; a row emptied is removed.
    data = form_data(response, "storedfile_form")
    assert sorted(data["metadata-key"][:2]) == ["langue", "pages"]
    data["metadata-key"] = ["langue", "", ""]
    data["metadata-value"] = ["fr", "", ""]
    assert (
        client.post(reverse("admin:library_storedfile_change", args=[stored.pk]), data).status_code
        == 302
    )
    stored.refresh_from_db()
    assert stored.metadata == {"langue": "fr"}


def test_another_companys_reference_does_not_block_a_deletion(client, member):
    block = ContentBlockFactory(company=member.company)
    ContentMatchFactory(matched_blocks=[block.pk])  # a project of another company
    page = client.get(
        reverse("admin:library_contentblock_delete", args=[block.pk])
    ).content.decode()
    assert "deactivate" not in page
    client.post(reverse("admin:library_contentblock_delete", args=[block.pk]), {"post": "yes"})
    assert not ContentBlock.objects.filter(pk=block.pk).exists()


def test_block_ids_of_another_company_are_refused_in_matches_and_sections(client, member):
    from projects.models import Section

    project = ProjectFactory(company=member.company)
    mine = ContentBlockFactory(company=member.company)
    theirs = ContentBlockFactory()
    add = reverse("admin:projects_contentmatch_add")
    data = {"project": project.pk, "requirement_id": "R1", "confidence": "0.5"}
    refused = client.post(add, {**data, "matched_blocks": f"{mine.pk},{theirs.pk}"})
    assert refused.status_code == 200
    assert str(theirs.pk) in str(refused.context["adminform"].form.errors["matched_blocks"])
    assert client.post(add, {**data, "matched_blocks": str(mine.pk)}).status_code == 302

    section = SectionFactory(project=project, source_blocks=[theirs.pk])
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        Section.objects.get(pk=section.pk).full_clean()
