from __future__ import annotations

import datetime

from django.contrib.postgres.search import SearchRank
from django.db.models import F, Func
from django.db.models.fields.json import KeyTextTransform
from django.utils import timezone

from config.db.search import FrenchQuery
from tenants.managers import TenantQuerySet

EXPIRY_KEY = "valid_until"  # see library.metadata

#: Dated content shows as "expiring" this many days before its valid_until.
EXPIRY_WARNING_DAYS = 60


class BlockDocument(Func):
    """``enpyco_block_fts(title, content, tags)``: the weighted French document of a
    block (title A, tags B, content C), the expression of idx_content_blocks_fts."""

    function = "enpyco_block_fts"

    def __init__(self):
        from django.contrib.postgres.search import SearchVectorField

        super().__init__(F("title"), F("content"), F("tags"), output_field=SearchVectorField())


class ContentBlockQuerySet(TenantQuerySet):
    def matching(self, text: str) -> ContentBlockQuerySet:
        """Blocks matching ``text`` in French (accents and plurals folded), through the
        GIN index on the stored document; the order is left to the caller."""
        return self.filter(search_document=FrenchQuery(text))

    def search(self, text: str) -> ContentBlockQuerySet:
        """``matching(text)``, best first."""
        return (
            self.matching(text)
            .annotate(search_rank=SearchRank(F("search_document"), FrenchQuery(text)))
            .order_by("-search_rank", "-updated_at")
        )

    def tagged_all(self, tags: list[str]) -> ContentBlockQuerySet:
        """Blocks having every tag (``tags @> …``, served by idx_content_blocks_tags)."""
        return self.filter(tags__contains=_normalized(tags))

    def tagged_any(self, tags: list[str]) -> ContentBlockQuerySet:
        """Blocks having at least one of the tags (``tags && …``, same index)."""
        return self.filter(tags__overlap=_normalized(tags))

    def _with_valid_until(self) -> ContentBlockQuerySet:
        # metadata->>'valid_until' as text: ISO dates compare correctly as strings.
        return self.alias(valid_until_text=KeyTextTransform(EXPIRY_KEY, "metadata"))

    def expired(self, today: datetime.date | None = None) -> ContentBlockQuerySet:
        today = today or timezone.localdate()
        return self._with_valid_until().filter(valid_until_text__lt=today.isoformat())

    def expiring(self, today: datetime.date | None = None) -> ContentBlockQuerySet:
        """Valid today, but no longer EXPIRY_WARNING_DAYS days from now."""
        today = today or timezone.localdate()
        limit = today + datetime.timedelta(days=EXPIRY_WARNING_DAYS)
        return self._with_valid_until().filter(
            valid_until_text__gte=today.isoformat(), valid_until_text__lte=limit.isoformat()
        )

    def valid_beyond_warning(self, today: datetime.date | None = None) -> ContentBlockQuerySet:
        today = today or timezone.localdate()
        limit = today + datetime.timedelta(days=EXPIRY_WARNING_DAYS)
        return self._with_valid_until().filter(valid_until_text__gt=limit.isoformat())


def _normalized(tags: list[str]) -> list[str]:
    from library.metadata import normalize_tags

    return normalize_tags(tags) or []
