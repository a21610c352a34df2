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


def references_to_blocks(block_ids) -> dict:
    """``{block_id: [what refers to it, …]}``: content matches listing the block in
    matched_blocks and sections listing it in source_blocks (GIN-indexed arrays)."""
    from projects.models import ContentMatch, Section

    ids = list(block_ids)
    found: dict = {}
    matches = (
        ContentMatch.objects.filter(matched_blocks__overlap=ids)
        .select_related("project")
        .only("requirement_id", "matched_blocks", "project__name")
    )
    for match in matches:
        for block_id in set(match.matched_blocks or []) & set(ids):
            found.setdefault(block_id, []).append(match)
    sections = (
        Section.objects.filter(source_blocks__overlap=ids)
        .select_related("project")
        .only("title", "source_blocks", "project__name")
    )
    for section in sections:
        for block_id in set(section.source_blocks or []) & set(ids):
            found.setdefault(block_id, []).append(section)
    return found
