from __future__ import annotations

import datetime
import uuid

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.search import SearchRank
from django.db.models import F, Func, Q, TextField
from django.utils import timezone

from config import cache_keys
from config.db.search import BlockDocument, FrenchQuery
from library.metadata import normalize_tags
from tenants.managers import TenantQuerySet

__all__ = [
    # Defined with the other search expressions; migration library.0003 names it here.
    "BlockDocument",
    "BlockFileQuerySet",
    "BlockVersionQuerySet",
    "CompanyTags",
    "ContentBlockQuerySet",
]

#: Dated content shows as "expiring" this many days before its valid_until.
EXPIRY_WARNING_DAYS = 60


class CompanyTags(Func):
    """``enpyco_company_tags(company_id, tags)``: the block's tags, each prefixed with
    its company (``'<company uuid>:<tag>'``), the expression of
    idx_content_blocks_company_tags.

    A GIN index on ``tags`` alone holds one posting list per tag for all companies, so
    "company X's blocks tagged T" intersects T's blocks across a thousand companies
    with X's (11 ms for a company of 900 blocks among a million). Keys that carry the
    company find X's blocks tagged T directly (0.7 ms). A composite GIN index on
    (company_id, tags) would need the btree_gin extension, which not every server has.
    """

    function = "enpyco_company_tags"

    def __init__(self):
        super().__init__(F("company"), F("tags"), output_field=ArrayField(TextField()))


#: Above this many blocks, a company's tag filters walk its blocks newest first and
#: stop at the page (idx_content_blocks_company_updated): a common tag fills a page
#: within a few hundred rows, where fetching all of its tagged rows to sort them costs
#: more. Below it, the company-prefixed tag index answers with only the tagged rows.
COMPANY_TAG_INDEX_MAX_BLOCKS = 10_000


def company_block_count(model, company_id) -> int:
    """The company's number of content blocks, cached for five minutes: it only
    chooses between two plans, and a count on every filter would cost more than it saves."""
    return cache_keys.BLOCK_COUNT.get_or_set(
        lambda: model._base_manager.filter(company_id=company_id).count(), company=company_id
    )


class BlockVersionQuerySet(TenantQuerySet):
    company_path = "company"


class BlockFileQuerySet(TenantQuerySet):
    company_path = "company"


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

    def tagged_all(self, tags: list[str], *, company=None) -> ContentBlockQuerySet:
        """Blocks having every tag (``@>``), of ``company`` when one is given (see
        ``_tag_filter`` for the index)."""
        return self._tag_filter(_normalized(tags), "contains", company)

    def tagged_any(self, tags: list[str], *, company=None) -> ContentBlockQuerySet:
        """Blocks having at least one of the tags (``&&``), of ``company`` when given."""
        return self._tag_filter(_normalized(tags), "overlap", company)

    def _tag_filter(self, tags: list[str], lookup: str, company) -> ContentBlockQuerySet:
        """For a company of up to COMPANY_TAG_INDEX_MAX_BLOCKS blocks, the
        company-prefixed keys of idx_content_blocks_company_tags; otherwise ``tags``
        itself (idx_content_blocks_tags, or a walk of the company's blocks newest
        first, as the planner sees fit)."""
        if company is None:
            return self.filter(**{f"tags__{lookup}": tags})
        scoped = self.for_company(company)
        company_id = _uuid_text(getattr(company, "pk", company))
        if (
            company_id
            and company_block_count(self.model, company_id) <= COMPANY_TAG_INDEX_MAX_BLOCKS
        ):
            keys = [f"{company_id}:{tag}" for tag in tags]
            return scoped.alias(company_tags=CompanyTags()).filter(
                **{f"company_tags__{lookup}": keys}
            )
        return scoped.filter(**{f"tags__{lookup}": tags})

    # --- validity (the ``valid_until`` column, derived from the typed facts) ----------
    def expired(self, today: datetime.date | None = None) -> ContentBlockQuerySet:
        """Blocks whose validity ended before ``today``."""
        today = today or timezone.localdate()
        return self.filter(valid_until__lt=today)

    def expiring(self, today: datetime.date | None = None) -> ContentBlockQuerySet:
        """Valid today, but no longer EXPIRY_WARNING_DAYS days from now."""
        today = today or timezone.localdate()
        limit = today + datetime.timedelta(days=EXPIRY_WARNING_DAYS)
        return self.filter(valid_until__gte=today, valid_until__lte=limit)

    def valid_beyond_warning(self, today: datetime.date | None = None) -> ContentBlockQuerySet:
        """Dated blocks still valid EXPIRY_WARNING_DAYS days from now."""
        today = today or timezone.localdate()
        limit = today + datetime.timedelta(days=EXPIRY_WARNING_DAYS)
        return self.filter(valid_until__gt=limit)

    def valid_on(self, day: datetime.date) -> ContentBlockQuerySet:
        """Blocks that may be used on ``day``: undated ones, and dated ones valid
        through that day (a block is valid on its ``valid_until`` date). Matching asks
        for ``valid_on(project deadline)`` (or today when that is later) so that it
        never proposes content that will have expired when the memoir is read; it
        combines this with ``is_active=True`` itself."""
        return self.filter(Q(valid_until__isnull=True) | Q(valid_until__gte=day))

    def expires_before(self, day: datetime.date) -> ContentBlockQuerySet:
        """Dated blocks no longer valid on ``day`` (the complement of valid_on)."""
        return self.filter(valid_until__lt=day)


def _uuid_text(value) -> str | None:
    """``value`` as the text form PostgreSQL gives a uuid, or None."""
    if value is None:
        return None
    try:
        return str(value if isinstance(value, uuid.UUID) else uuid.UUID(str(value)))
    except ValueError:
        return None


def _normalized(tags: list[str]) -> list[str]:
    return normalize_tags(tags) or []
