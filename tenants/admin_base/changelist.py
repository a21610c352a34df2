"""Changelists that stay fast on a company of 100,000 rows."""

from __future__ import annotations

from django.contrib.admin.views.main import ChangeList
from django.core.paginator import Paginator
from django.utils.functional import cached_property


class CappedCountPaginator(Paginator):
    """Counts the matching rows up to ``cap`` only.

    A company with 100,000 rows would otherwise pay a full count of them on every
    page view; past the cap the list says "more than …" and the last pages are
    reached by narrowing the search or the filters.
    """

    cap = 10_000

    @cached_property
    def count(self) -> int:
        try:
            counted = self.object_list.order_by()[: self.cap + 1].count()
        except (AttributeError, TypeError):
            counted = len(self.object_list)
        self.capped = counted > self.cap
        return min(counted, self.cap)


class PageAnnotatingChangeList(ChangeList):
    """ChangeList that lets its admin decorate the current page's rows in bulk
    (``annotate_page``), e.g. resolve ids stored in arrays with one query per page
    instead of one per row."""

    def __init__(self, request, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        if self.query and not getattr(self.model_admin, "date_hierarchy_on_search", True):
            # No years and months above a search's results: their MIN/MAX is read
            # through the date's index, along every row of the company when the
            # search matches few of them.
            self.date_hierarchy = None

    def get_queryset(self, request, exclude_parameters=None):
        queryset = super().get_queryset(request, exclude_parameters)
        deferred = self.model_admin.list_defer
        return queryset.defer(*deferred) if deferred else queryset

    def get_results(self, request):
        super().get_results(request)
        self.model_admin.annotate_page(request, self.result_list)
        singular, plural = getattr(self.model_admin, "count_names", None) or (
            self.opts.verbose_name,
            self.opts.verbose_name_plural,
        )
        self.count_name = singular if self.result_count == 1 else plural


class FastChangeListMixin:
    """Capped counts, page annotation, and French full-text search where the model's
    queryset offers it."""

    list_per_page = 50
    # Counting every row of the table on each page view is what makes admin lists
    # slow on big tables; the filtered count is enough.
    show_full_result_count = False
    paginator = CappedCountPaginator
    #: Wide columns the list does not show, left out of its query (a content block's
    #: text and search document, a chunk's embedding).
    list_defer: tuple[str, ...] = ()

    def get_changelist(self, request, **kwargs):
        return PageAnnotatingChangeList

    def annotate_page(self, request, rows) -> None:
        """Hook: decorate the rows of the changelist page (one query, not one per row)."""

    def get_search_results(self, request, queryset, search_term):
        """Models whose queryset offers ``matching(text)`` (French full-text search
        over an indexed document) use it instead of ``ILIKE '%…%'`` on each field,
        which reads every row of the company."""
        term = search_term.strip()
        if term and hasattr(queryset, "matching"):
            return queryset.matching(term), False
        return super().get_search_results(request, queryset, search_term)
