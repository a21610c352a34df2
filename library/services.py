"""Multi-step operations on the content library.

Every function takes the company it acts for and reads and writes that company's rows
only: another company's block id is not found, exactly like an id that does not
exist. Content blocks are saved through ``save_block`` only (the admin included), so
every saved change is locked against lost updates and keeps the version it replaces.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from audit import services as audit
from audit.models import AuditLog
from library import embeddings, versioning
from library.models import ContentBlock, ContentBlockVersion, PastProject
from tenants.managers import company_pk


@dataclass
class StaleBlock(Exception):
    """The block was saved by someone else after the editor opened it."""

    current_version: int
    changed_by: str | None
    changed_at: object | None


def lock_block_version(company, block_id, expected_version: int | None) -> int:
    """Lock the company's block until the end of the transaction and return its
    version; raise StaleBlock if it is no longer ``expected_version`` (a lost update),
    ContentBlock.DoesNotExist if the company has no such block."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("lock_block_version() must run inside a transaction.")
    current = (
        ContentBlock.objects.for_company(company)
        .select_for_update()
        .filter(pk=block_id)
        .values_list("version", flat=True)
        .first()
    )
    if current is None:
        raise ContentBlock.DoesNotExist(f"No content block {block_id} in this company.")
    if expected_version is None or current == expected_version:
        return current
    last = (
        AuditLog.objects.for_company(company)
        .filter(resource_type="content_block", resource_id=block_id, action="content_block.update")
        .order_by("-timestamp")
        .values("user_id", "timestamp")
        .first()
    )
    name = None
    if last and last["user_id"]:
        from tenants.models import User

        user = User.objects.filter(pk=last["user_id"]).only("full_name", "email").first()
        name = (user.full_name or user.email) if user else None
    raise StaleBlock(current, name, last["timestamp"] if last else None)


def save_block(
    company, block: ContentBlock, *, user, expected_version: int | None = None
) -> ContentBlock:
    """Save ``block`` for ``company``: created at version 1, or saved as a new version
    keeping the previous one (a save that changes nothing keeps its version, so that no
    colleague's open form is made stale for nothing).

    ``expected_version`` (the version the editor opened) refuses a lost update.
    """
    company_id = company_pk(company)
    with transaction.atomic():
        if block._state.adding:
            block.company_id = company_id
            block.version = 1
            block.save(force_insert=True)
            embeddings.queue_embedding(company_id, block, user=user)
            return block
        if str(block.company_id) != str(company_id):
            raise ContentBlock.DoesNotExist(f"No content block {block.pk} in this company.")
        current = lock_block_version(company_id, block.pk, expected_version)
        previous = ContentBlock.objects.get(pk=block.pk)
        block.version = current + 1 if versioning.has_changes(block, previous) else current
        block.save()
        versioning.keep_previous_version(block, previous, user=user)
        embeddings.queue_embedding(company_id, block, user=user)
    return block


def restore_version(company, block_id, version: int, *, user, request=None) -> ContentBlock:
    """Make version ``version`` of the company's block its new current version
    (history is kept). ContentBlock.DoesNotExist / ContentBlockVersion.DoesNotExist
    when the company has no such block or version."""
    with transaction.atomic():
        lock_block_version(company, block_id, None)
        block = ContentBlock.objects.for_company(company).get(pk=block_id)
        old = ContentBlockVersion.objects.for_company(company).get(block=block, version=version)
        previous = ContentBlock.objects.get(pk=block.pk)
        for name in versioning.VERSIONED_FIELDS:
            setattr(block, name, getattr(old, name))
        block.version = previous.version + 1
        block.save()
        kept = versioning.keep_previous_version(block, previous, user=user)
        embeddings.queue_embedding(company, block, user=user)
        audit.record_object(
            "restore",
            block,
            request=request,
            user=user,
            changes=kept.changes if kept else {},
            extra={"restored_version": old.version, "new_version": block.version},
        )
    return block


def save_past_project(company, project: PastProject, *, user=None) -> PastProject:
    """Save the company's past project (created for ``company`` when new) and queue its
    embedding, in one transaction: the job exists once the save is committed.
    PastProject.DoesNotExist for another company's past project."""
    company_id = company_pk(company)
    with transaction.atomic():
        if project._state.adding:
            project.company_id = company_id
            project.save(force_insert=True)
        else:
            if str(project.company_id) != str(company_id) or not (
                PastProject.objects.for_company(company_id).filter(pk=project.pk).exists()
            ):
                raise PastProject.DoesNotExist(f"No past project {project.pk} in this company.")
            project.save()
        embeddings.queue_embedding(company_id, project, user=user)
    return project


def references_to_blocks(blocks) -> dict:
    """``{block_id: [what refers to it, …]}``: the content matches listing a block in
    matched_blocks and the sections listing it in source_blocks (GIN-indexed arrays),
    among the projects of the block's own company only."""
    from projects.models import ContentMatch, Section

    company_of = {block.pk: block.company_id for block in blocks}
    ids = list(company_of)
    found: dict = {}
    for model, field in ((ContentMatch, "matched_blocks"), (Section, "source_blocks")):
        rows = (
            model.objects.filter(
                **{f"{field}__overlap": ids}, project__company_id__in=set(company_of.values())
            )
            .select_related("project")
            .only(field, "project__name", "project__company_id", *_label_fields(model))
        )
        for row in rows:
            for block_id in set(getattr(row, field) or []) & set(ids):
                if company_of[block_id] == row.project.company_id:
                    found.setdefault(block_id, []).append(row)
    return found


def _label_fields(model) -> tuple[str, ...]:
    return ("requirement_id",) if model.__name__ == "ContentMatch" else ("title",)
