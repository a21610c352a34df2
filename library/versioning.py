"""Content block history: every saved change keeps the version it replaces (see
``library.services.save_block``, the one path that saves a block)."""

from __future__ import annotations

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
