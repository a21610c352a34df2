"""Multi-step operations on the content library."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from audit.models import AuditLog
from library.models import ContentBlock


@dataclass
class StaleBlock(Exception):
    """The block was saved by someone else after the editor opened it."""

    current_version: int
    changed_by: str | None
    changed_at: object | None


def lock_block_version(block_id, expected_version: int | None) -> int:
    """Lock the block's row until the end of the transaction and return its version,
    or raise StaleBlock if it is no longer ``expected_version`` (a lost update)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("lock_block_version() must run inside a transaction.")
    current = (
        ContentBlock.objects.select_for_update()
        .filter(pk=block_id)
        .values_list("version", flat=True)
        .first()
    )
    if current is None or expected_version is None or current == expected_version:
        return current
    last = (
        AuditLog.objects.filter(
            resource_type="content_block", resource_id=block_id, action="content_block.update"
        )
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
