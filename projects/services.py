"""Review and approval steps of the workflow."""

from __future__ import annotations

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from audit import services as audit


def mark_reviewed(sections: QuerySet, *, user, request=None) -> int:
    """Mark the sections reviewed by ``user`` now (one audit row per section)."""
    now = timezone.now()
    with transaction.atomic():
        rows = list(sections.select_for_update(of=("self",)).filter(reviewed=False))
        for section in rows:
            before = audit.snapshot(section)
            section.reviewed, section.reviewer, section.reviewed_at = True, user, now
            section.save(update_fields=["reviewed", "reviewer", "reviewed_at"])
            audit.record_object(
                "review",
                section,
                request=request,
                changes=audit.diff(before, audit.snapshot(section)),
            )
    return len(rows)


def set_approval(matches: QuerySet, approved: bool, *, request=None) -> int:
    """Approve or reject content matches (one audit row per match that changed)."""
    verb = "approve" if approved else "reject"
    with transaction.atomic():
        rows = list(matches.select_for_update(of=("self",)).exclude(approved=approved))
        for match in rows:
            match.approved = approved
            match.save(update_fields=["approved"])
            audit.record_object(
                verb,
                match,
                request=request,
                changes={"approved": {"old": not approved, "new": approved}},
            )
    return len(rows)
