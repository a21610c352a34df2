from __future__ import annotations

from django.contrib import admin
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from audit import presentation
from audit.models import AuditLog
from config.db.search import AuditDocument, FrenchQuery
from tenants.admin_base import TenantScopedAdmin, is_platform_admin, scope_related
from tenants.models import Company, User

#: What the search index splits email addresses on (audit.0004), split the same way in
#: the searched words.
EMAIL_SEPARATORS = str.maketrans("@.", "  ")
#: The most people a search term names (a company's staff is far fewer).
MAX_PEOPLE = 500


class ActionFilter(admin.SimpleListFilter):
    title = _("action")
    parameter_name = "verb"

    def lookups(self, request, model_admin):
        return [(k, v) for k, v in presentation.ACTION_LABELS.items()]

    def queryset(self, request, queryset):
        if self.value() in presentation.ACTION_LABELS:
            return queryset.filter(action__in=presentation.actions_of([self.value()]))
        return queryset


class PersonFilter(admin.SimpleListFilter):
    title = _("person")
    parameter_name = "person"

    def lookups(self, request, model_admin):
        users = scope_related(request, User.objects.all()).order_by("full_name", "email")
        return [
            (str(pk), name or email)
            for pk, name, email in users.values_list("pk", "full_name", "email")
        ]

    def queryset(self, request, queryset):
        value = presentation.is_uuid(self.value() or "")
        return queryset.filter(user_id=value) if value else queryset


class ObjectTypeFilter(admin.SimpleListFilter):
    title = _("object type")
    parameter_name = "type"

    def lookups(self, request, model_admin):
        # The kinds of objects people work on: those the admin shows.
        registered = model_admin.admin_site._registry
        kinds = sorted(
            (
                (kind, model)
                for kind, model in presentation.models_by_resource_type().items()
                if model in registered
            ),
            key=lambda item: str(item[1]._meta.verbose_name_plural),
        )
        return [(kind, presentation.resource_type_label(kind)) for kind, _model in kinds]

    def queryset(self, request, queryset):
        if self.value() in presentation.models_by_resource_type():
            return queryset.filter(resource_type=self.value())
        return queryset


@admin.register(AuditLog)
class AuditLogAdmin(TenantScopedAdmin):
    """The trail is read-only for everyone, superusers included."""

    #: "2 entrées", not "2 journal d’audit" (the plural name is the log's).
    count_names = (_("entry"), _("entries"))
    list_display = ("when", "description")
    list_display_links = ("when",)
    list_filter = (ActionFilter, PersonFilter, ObjectTypeFilter)
    search_fields = ("action",)
    search_help_text = _(
        "A person (name or email), an object (its name or id) or an action "
        "(“modification”, “suppression”…)."
    )
    ordering = ("-timestamp",)
    date_hierarchy = "timestamp"
    # A search that finds few entries read the whole log for the hierarchy's first and
    # last dates (2 × 1.1 s on a 100,000-entry log): searches go without it.
    date_hierarchy_on_search = False
    readonly_fields = (
        "when",
        "description",
        "person",
        "object_link",
        "changes_table",
        "more_details",
        "ip_address",
        "user_agent",
    )
    fields = readonly_fields

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        value = presentation.is_uuid(term)
        if value is not None:
            return queryset.filter(Q(resource_id=value) | Q(user_id=value)), False
        people = scope_related(request, User.objects.all()).filter(
            Q(full_name__icontains=term) | Q(email__icontains=term)
        )
        folded = term.lower()
        verbs = [
            verb
            for verb, label in presentation.ACTION_LABELS.items()
            if folded in str(label).lower()
        ]
        # Every condition is one an index answers (idx_audit_log_search for the names
        # kept in the entries, the action and user indexes), so that a search of a big
        # company's log does not read all of it.
        # The actions and the people as lists of values, not a prefix or a subquery: an
        # OR is answered from the indexes only when each of its arms is.
        match = Q(names=FrenchQuery(term.translate(EMAIL_SEPARATORS)))
        actions = [a for a in presentation.actions_of() if a.startswith(folded)]
        actions += presentation.actions_of(verbs) if verbs else []
        if actions:
            match |= Q(action__in=sorted(set(actions)))
        people_ids = list(people.values_list("pk", flat=True)[:MAX_PEOPLE])
        if people_ids:
            match |= Q(user_id__in=people_ids)
        return queryset.alias(names=AuditDocument()).filter(match), False

    def get_list_display(self, request):
        columns = list(self.list_display)
        if is_platform_admin(request.user):
            columns.append("company_name")
        return columns

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is not None:
            presentation.describe([obj], request)
            obj._request = request
        return obj

    def annotate_page(self, request, rows) -> None:
        presentation.describe(rows, request)
        companies = {}
        if is_platform_admin(request.user):
            companies = dict(
                Company.objects.filter(
                    pk__in={r.company_id for r in rows if r.company_id}
                ).values_list("pk", "name")
            )
        for row in rows:
            row._company_name = companies.get(row.company_id)

    @admin.display(description=_("date"), ordering="timestamp")
    def when(self, obj) -> str:
        return presentation.local(obj.timestamp)

    @admin.display(description=_("what happened"))
    def description(self, obj):
        return obj.described.sentence

    @admin.display(description=_("person"))
    def person(self, obj):
        described = obj.described
        return presentation._link(described.actor_name, described.actor_url)

    @admin.display(description=_("object"))
    def object_link(self, obj):
        described = obj.described
        model = presentation.model_of(obj.resource_type)
        if model is None:
            return "—"
        kind = str(model._meta.verbose_name)
        if described.object_name is None:
            return kind
        link = presentation._link(described.object_name, described.object_url)
        if described.object_url is None:
            return format_html("{} ({}, {})", link, kind, _("no longer exists"))
        return format_html("{} ({})", link, kind)

    @admin.display(description=_("changes"))
    def changes_table(self, obj):
        request = getattr(obj, "_request", None)
        return render_to_string(
            "admin/audit/changes.html",
            {
                "rows": presentation.change_rows(obj, request),
                "values": presentation.value_rows(obj, request),
            },
        )

    @admin.display(description=_("other details"))
    def more_details(self, obj):
        rows = presentation.other_details(obj)
        if not rows:
            return "—"
        return render_to_string("admin/audit/details.html", {"rows": rows})

    @admin.display(description=_("company"))
    def company_name(self, obj) -> str:
        if not hasattr(obj, "_company_name"):
            obj._company_name = (
                Company.objects.filter(pk=obj.company_id).values_list("name", flat=True).first()
            )
        return obj._company_name or "—"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
