"""Content block history: every saved change keeps the version it replaces."""

from __future__ import annotations

from django.db import transaction

from audit import services as audit
from library.models import ContentBlock, ContentBlockVersion

#: The fields a version keeps (what an editor changes).
VERSIONED_FIELDS = ("type", "title", "content", "metadata", "tags", "is_active")


def _values(obj) -> dict:
    return {name: getattr(obj, name) for name in VERSIONED_FIELDS}


def has_changes(block: ContentBlock, previous: ContentBlock) -> bool:
    return _values(block) != _values(previous)


def keep_previous_version(
    block: ContentBlock, previous: ContentBlock, *, user
) -> ContentBlockVersion | None:
    """Store ``previous`` (the row as it was) as a version replaced by ``block``.

    Call it in the transaction that saves ``block`` with ``version = previous.version
    + 1``. Nothing is stored when no versioned field changed.
    """
    before, after = _values(previous), _values(block)
    changes = {
        name: {"old": audit.to_json(before[name]), "new": audit.to_json(after[name])}
        for name in VERSIONED_FIELDS
        if before[name] != after[name]
    }
    if not changes:
        return None
    return ContentBlockVersion.objects.create(
        block=block,
        version=previous.version,
        replaced_by=user if getattr(user, "is_authenticated", False) else None,
        changes=changes,
        **before,
    )


def save_block(block: ContentBlock, *, user, expected_version: int | None = None) -> ContentBlock:
    """Save an edited block as a new version, keeping the previous one.

    ``expected_version`` (the version the editor opened) refuses a lost update; see
    ``library.services.lock_block_version``.
    """
    from library.services import lock_block_version

    with transaction.atomic():
        current_version = lock_block_version(block.pk, expected_version)
        previous = ContentBlock.objects.get(pk=block.pk)
        block.version = current_version + 1 if has_changes(block, previous) else current_version
        block.save()
        keep_previous_version(block, previous, user=user)
    return block


def restore_version(
    block: ContentBlock, version: ContentBlockVersion, *, user, request=None
) -> ContentBlock:
    """Make ``version``'s content the block's new current version (history is kept)."""
    if version.block_id != block.pk:
        raise ValueError("This version belongs to another block.")
    with transaction.atomic():
        locked = ContentBlock.objects.select_for_update().get(pk=block.pk)
        previous = ContentBlock.objects.get(pk=block.pk)
        for name in VERSIONED_FIELDS:
            setattr(locked, name, getattr(version, name))
        locked.version = previous.version + 1
        locked.save()
        kept = keep_previous_version(locked, previous, user=user)
        audit.record_object(
            "restore",
            locked,
            request=request,
            user=user,
            changes=kept.changes if kept else {},
            extra={"restored_version": version.version, "new_version": locked.version},
        )
    return locked
