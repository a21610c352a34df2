"""Review and approval steps of the workflow."""

from __future__ import annotations

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from audit import services as audit


def mark_reviewed(sections: QuerySet, *, user, request=None) -> int:
    """Mark the sections reviewed by ``user`` now: one UPDATE, and one audit row per
    section written in a single INSERT."""
    now = timezone.now()
    with transaction.atomic():
        rows = list(
            sections.select_for_update(of=("self",))
            .filter(reviewed=False)
            .select_related("project")
        )
        sections.model.objects.filter(pk__in=[s.pk for s in rows]).update(
            reviewed=True, reviewer=user, reviewed_at=now
        )
        audit.record_objects(
            "review",
            rows,
            request=request,
            details_for=lambda section: {
                "changes": {
                    "reviewed": {"old": False, "new": True},
                    "reviewer_id": {"old": audit.to_json(section.reviewer_id), "new": str(user.pk)},
                    "reviewed_at": {
                        "old": audit.to_json(section.reviewed_at),
                        "new": audit.to_json(now),
                    },
                }
            },
        )
    return len(rows)


def set_approval(matches: QuerySet, approved: bool, *, request=None) -> int:
    """Approve or reject content matches: one UPDATE, and one audit row per match
    that changed, written in a single INSERT."""
    with transaction.atomic():
        rows = list(
            matches.select_for_update(of=("self",))
            .exclude(approved=approved)
            .select_related("project")
        )
        matches.model.objects.filter(pk__in=[m.pk for m in rows]).update(approved=approved)
        audit.record_objects(
            "approve" if approved else "reject",
            rows,
            request=request,
            details_for=lambda _match: {
                "changes": {"approved": {"old": not approved, "new": approved}}
            },
        )
    return len(rows)
