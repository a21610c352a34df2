"""Review and approval steps of the workflow.

Each function takes the company it acts for and changes that company's rows only: ids
of another company's sections or matches are ignored like ids that do not exist.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from audit import services as audit
from projects.models import ContentMatch, Section


def _ids(rows: Iterable) -> list:
    """Ids of ``rows``: a queryset, instances or ids."""
    if hasattr(rows, "values_list"):
        return list(rows.values_list("pk", flat=True))
    return [getattr(row, "pk", row) for row in rows]


def mark_reviewed(company, sections: Iterable, *, user, request=None) -> int:
    """Mark the company's ``sections`` reviewed by ``user`` now: one UPDATE, and one
    audit row per section written in a single INSERT. Returns how many changed."""
    now = timezone.now()
    with transaction.atomic():
        rows = list(
            Section.objects.for_company(company)
            .select_for_update(of=("self",))
            .filter(pk__in=_ids(sections), reviewed=False)
            .select_related("project")
        )
        Section.objects.filter(pk__in=[s.pk for s in rows]).update(
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


def set_approval(company, matches: Iterable, approved: bool, *, request=None) -> int:
    """Approve or reject the company's content ``matches``: one UPDATE, and one audit
    row per match that changed, written in a single INSERT."""
    with transaction.atomic():
        rows = list(
            ContentMatch.objects.for_company(company)
            .select_for_update(of=("self",))
            .filter(pk__in=_ids(matches))
            .exclude(approved=approved)
            .select_related("project")
        )
        ContentMatch.objects.filter(pk__in=[m.pk for m in rows]).update(approved=approved)
        audit.record_objects(
            "approve" if approved else "reject",
            rows,
            request=request,
            details_for=lambda _match: {
                "changes": {"approved": {"old": not approved, "new": approved}}
            },
        )
    return len(rows)
