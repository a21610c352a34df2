"""The review form of an RC analysis: the key facts as fields, the criteria tree as
editable rows (name, weight, unit, parent), the required contents as rows — each with
the excerpt it was read from — and the proposals of a re-analysis to accept. No JSON.

``ReviewForms`` validates everything together; ``apply`` turns it into the corrected
``Analysis``: what a person changed is marked ``corrected`` (a re-analysis keeps it),
ids stay stable (a new criterion takes the next free id, a deleted one's id is not
reused), shares are recomputed.
"""

from __future__ import annotations

import copy
import datetime
import re
from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from projects.rc.analysis import FACT_NAMES, SITE_VISIT_VALUES, Analysis, Content, Fact
from projects.rc.tree import CRITERION, ELEMENT, SUBCRITERION, Criterion, flatten, normalise

UNIT_CHOICES = [
    ("", _("— (no weight)")),
    ("%", "%"),
    ("points", _("points")),
    ("/5", _("out of 5")),
    ("/10", _("out of 10")),
    ("/20", _("out of 20")),
    ("/100", _("out of 100")),
]
SITE_VISIT_CHOICES = [
    ("", _("not stated")),
    ("compulsory", _("compulsory")),
    ("optional", _("optional")),
    ("none", _("no visit")),
]
DEADLINE_FORMATS = ["%d/%m/%Y %H:%M", "%d/%m/%Y %Hh%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M"]


def _deadline_value(value) -> datetime.datetime | None:
    if not isinstance(value, str) or "T" not in value:
        return None
    try:
        moment = datetime.datetime.fromisoformat(value)
    except ValueError:
        return None
    return timezone.localtime(moment) if moment.tzinfo else None


class FactsForm(forms.Form):
    buyer = forms.CharField(label=_("buyer"), max_length=255, required=False)
    subject = forms.CharField(
        label=_("subject"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 80}),
    )
    lot = forms.CharField(label=_("lot"), max_length=100, required=False)
    location = forms.CharField(label=_("location"), max_length=255, required=False)
    deadline = forms.DateTimeField(
        label=_("deadline for offers"),
        required=False,
        input_formats=DEADLINE_FORMATS,
        widget=forms.DateTimeInput(
            format="%d/%m/%Y %H:%M", attrs={"placeholder": "07/03/2025 12:00"}
        ),
        help_text=_("Day/month/year hours:minutes, Paris time."),
    )
    page_limit = forms.IntegerField(
        label=_("page limit of the memoir"), min_value=1, max_value=1000, required=False
    )
    site_visit = forms.ChoiceField(
        label=_("site visit"), choices=SITE_VISIT_CHOICES, required=False
    )
    variants_allowed = forms.NullBooleanField(
        label=_("variants allowed"),
        required=False,
        widget=forms.Select(
            choices=[("unknown", _("not stated")), ("true", _("yes")), ("false", _("no"))]
        ),
    )

    def __init__(self, *args, analysis: Analysis, **kwargs):
        self.analysis = analysis
        initial = {name: analysis.facts[name].value for name in FACT_NAMES}
        initial["deadline"] = _deadline_value(initial["deadline"])
        initial["site_visit"] = initial["site_visit"] or ""
        super().__init__(*args, initial=initial, **kwargs)
        for name in analysis.proposals.get("facts") or {}:
            if name in FACT_NAMES:
                self.fields[f"accept_{name}"] = forms.BooleanField(
                    label=_("use the new value"), required=False
                )

    def clean_site_visit(self):
        value = self.cleaned_data.get("site_visit") or None
        if value is not None and value not in SITE_VISIT_VALUES:
            raise forms.ValidationError(_("Choose one of the proposed values."))
        return value


class CriterionForm(forms.Form):
    key = forms.CharField(widget=forms.HiddenInput, required=False, max_length=40)
    name = forms.CharField(
        label=_("name"), max_length=300, required=False, widget=forms.TextInput(attrs={"size": 40})
    )
    weight = forms.DecimalField(
        label=_("weight"),
        required=False,
        min_value=0,
        max_value=Decimal(10000),
        max_digits=7,
        decimal_places=2,
        localize=True,
        widget=forms.TextInput(attrs={"size": 6}),
    )
    unit = forms.ChoiceField(label=_("unit"), choices=UNIT_CHOICES, required=False)
    parent = forms.ChoiceField(label=_("parent"), required=False)
    element = forms.BooleanField(
        label=_("element"),
        required=False,
        help_text=_("An element of appreciation: no weight, not a sub-criterion."),
    )

    def __init__(self, *args, parents=(), units=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent"].choices = [("", _("— (a criterion)")), *parents]
        known = {value for value, _label in UNIT_CHOICES}
        self.fields["unit"].choices = UNIT_CHOICES + [(u, u) for u in units if u not in known]

    @property
    def filled(self) -> bool:
        data = self.cleaned_data
        return bool(data.get("name") or data.get("weight") is not None or data.get("key"))

    def clean(self):
        cleaned = super().clean()
        if not (cleaned.get("name") or "").strip() and (
            cleaned.get("weight") is not None or cleaned.get("unit")
        ):
            self.add_error("name", _("Give the criterion a name."))
        if cleaned.get("weight") is not None and not cleaned.get("unit"):
            self.add_error("unit", _("Choose the unit of this weight."))
        if cleaned.get("unit") and cleaned.get("weight") is None:
            self.add_error("weight", _("A unit needs a weight."))
        if cleaned.get("element") and not cleaned.get("parent"):
            self.add_error("parent", _("An element belongs to a criterion: choose it."))
        if cleaned.get("element") and cleaned.get("weight") is not None:
            self.add_error(
                "weight", _("An element has no weight; make it a sub-criterion instead.")
            )
        return cleaned


class BaseCriterionFormSet(forms.BaseFormSet):
    def clean(self):
        if any(self.errors):
            return
        kept = {}
        for form in self.forms:
            if form.cleaned_data.get("DELETE"):
                continue
            data = form.cleaned_data
            if data.get("name"):
                kept[data.get("key") or f"new-{id(form)}"] = data
        for form in self.forms:
            if form.cleaned_data.get("DELETE"):
                continue
            parent = form.cleaned_data.get("parent")
            if not parent or not form.cleaned_data.get("name"):
                continue
            if parent == form.cleaned_data.get("key"):
                form.add_error("parent", _("A criterion cannot be its own parent."))
            elif parent not in kept:
                form.add_error("parent", _("This parent is deleted: choose another one."))
            elif kept[parent].get("parent"):
                form.add_error("parent", _("Choose a criterion as parent, not a sub-criterion."))


class ContentForm(forms.Form):
    key = forms.CharField(widget=forms.HiddenInput, required=False, max_length=40)
    text = forms.CharField(
        label=_("required content"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 1, "cols": 70}),
    )
    criterion = forms.ChoiceField(label=_("criterion served"), required=False)

    def __init__(self, *args, criteria=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["criterion"].choices = [("", "—"), *criteria]


CriterionFormSet = forms.formset_factory(
    CriterionForm, formset=BaseCriterionFormSet, extra=2, can_delete=True, max_num=200
)
ContentFormSet = forms.formset_factory(ContentForm, extra=2, can_delete=True, max_num=200)


def _criterion_rows(tree: list[Criterion]) -> list[dict]:
    rows = []
    for criterion in tree:
        rows.append(
            {
                "key": criterion.id,
                "name": criterion.name,
                "weight": criterion.weight,
                "unit": criterion.unit or "",
                "parent": "",
            }
        )
        for child in criterion.subcriteria:
            rows.append(
                {
                    "key": child.id,
                    "name": child.name,
                    "weight": child.weight,
                    "unit": child.unit or "",
                    "parent": criterion.id,
                }
            )
        for element in criterion.elements:
            rows.append(
                {
                    "key": element.id,
                    "name": element.name,
                    "weight": None,
                    "unit": "",
                    "parent": criterion.id,
                    "element": True,
                }
            )
    return rows


class ReviewForms:
    """The facts form and the two formsets of one review page, validated together."""

    def __init__(self, analysis: Analysis, data=None):
        self.analysis = analysis
        self.nodes = {node.id: node for node in flatten(analysis.criteria)}
        self.contents = {content.id: content for content in analysis.required_contents}
        self.facts = FactsForm(data, analysis=analysis, prefix="facts")
        parents = [(c.id, f"{c.id} — {c.name}") for c in analysis.criteria]
        units = sorted({n.unit for n in self.nodes.values() if n.unit})
        self.criteria = CriterionFormSet(
            data,
            prefix="criteria",
            initial=_criterion_rows(analysis.criteria),
            form_kwargs={"parents": parents, "units": units},
        )
        served = [(n.id, f"{n.id} — {n.name}") for n in self.nodes.values() if n.level != ELEMENT]
        self.required = ContentFormSet(
            data,
            prefix="contents",
            initial=[
                {"key": c.id, "text": c.text, "criterion": c.criterion or ""}
                for c in analysis.required_contents
            ],
            form_kwargs={"criteria": served},
        )
        self.accept = forms.Form(data, prefix="accept")
        if analysis.proposals.get("criteria"):
            self.accept.fields["criteria"] = forms.BooleanField(
                label=_("replace the criteria with the new analysis' ones"), required=False
            )
        if analysis.proposals.get("required_contents"):
            self.accept.fields["required_contents"] = forms.BooleanField(
                label=_("replace the required contents with the new analysis' ones"), required=False
            )
        if analysis.alternative_criteria:
            self.accept.fields["alternative"] = forms.BooleanField(
                label=_("use the criteria the offline parser read instead"), required=False
            )

    def is_valid(self) -> bool:
        results = [
            self.facts.is_valid(),
            self.criteria.is_valid(),
            self.required.is_valid(),
            self.accept.is_valid(),
        ]
        return all(results)

    # --- for the template ------------------------------------------------------------------
    def criterion_rows(self):
        """(form, node or None) pairs."""
        return [
            (form, self.nodes.get(form.initial.get("key") or "")) for form in self.criteria.forms
        ]

    def content_rows(self):
        return [
            (form, self.contents.get(form.initial.get("key") or "")) for form in self.required.forms
        ]

    def fact_rows(self):
        proposals = self.analysis.proposals.get("facts") or {}
        rows = []
        for name in FACT_NAMES:
            proposal = Fact.from_json(proposals[name]) if name in proposals else None
            rows.append(
                {
                    "name": name,
                    "field": self.facts[name],
                    "fact": self.analysis.facts[name],
                    "display": display(name, self.analysis.facts[name].value),
                    "proposal": proposal,
                    "proposal_display": display(name, proposal.value) if proposal else "",
                    "accept": self.facts[f"accept_{name}"]
                    if f"accept_{name}" in self.facts.fields
                    else None,
                }
            )
        return rows

    # --- the corrected analysis -------------------------------------------------------------
    def apply(self) -> Analysis:
        analysis = copy.deepcopy(self.analysis)
        stale = set(normalise(copy.deepcopy(self.analysis.criteria)))
        proposals = dict(analysis.proposals)
        self._apply_facts(analysis, proposals)
        accept = self.accept.cleaned_data
        if accept.get("alternative"):
            analysis.criteria = copy.deepcopy(analysis.alternative_criteria)
            analysis.alternative_criteria = []
            analysis.criteria_corrected = True
        elif accept.get("criteria"):
            analysis.criteria = [Criterion.from_json(c) for c in proposals.pop("criteria")]
            analysis.criteria_corrected = False
        else:
            tree, changed = self._criteria_from_rows()
            if changed:
                analysis.criteria = tree
                analysis.criteria_corrected = True
        if accept.get("required_contents"):
            analysis.required_contents = [
                Content.from_json(c) for c in proposals.pop("required_contents")
            ]
            analysis.contents_corrected = False
        else:
            contents, changed = self._contents_from_rows()
            if changed:
                analysis.required_contents = contents
                analysis.contents_corrected = True
                analysis.contents_flag = ""
        if accept.get("alternative") or accept.get("criteria"):
            proposals.pop("criteria", None)
        normalise(analysis.criteria)
        # Warnings on weights are shown from the tree as it is now, not as it was read.
        analysis.warnings = [w for w in analysis.warnings if w not in stale]
        analysis.proposals = {k: v for k, v in proposals.items() if v}
        return analysis

    def _apply_facts(self, analysis: Analysis, proposals: dict) -> None:
        cleaned = self.facts.cleaned_data
        fact_proposals = dict(proposals.get("facts") or {})
        for name in FACT_NAMES:
            if cleaned.get(f"accept_{name}") and name in fact_proposals:
                analysis.facts[name] = Fact.from_json(fact_proposals.pop(name))
                continue
            if name not in self.facts.changed_data:
                continue
            value = cleaned.get(name)
            if name == "deadline":
                value = (
                    value.astimezone(timezone.get_current_timezone()).isoformat() if value else None
                )
            elif isinstance(value, str):
                value = value.strip() or None
            fact = analysis.facts[name]
            if value == fact.value:
                continue
            fact.value, fact.corrected, fact.flag = value, True, ""
            fact_proposals.pop(name, None)  # a person's value answers the proposal too
        proposals["facts"] = fact_proposals

    def _criteria_from_rows(self) -> tuple[list[Criterion], bool]:
        old = self.nodes
        changed = False
        tops: list[Criterion] = []
        by_key: dict[str, Criterion] = {}
        children: list[tuple[str, Criterion]] = []
        seen = set()
        for form in self.criteria.forms:
            data = getattr(form, "cleaned_data", {})
            deleted = bool(data.get("DELETE"))
            key = data.get("key") or ""
            if deleted or not (data.get("name") or "").strip():
                if key in old:
                    changed = True  # deleted
                continue
            seen.add(key)
            base = old.get(key)
            node = Criterion(name="") if base is None else copy.copy(base)
            node.subcriteria, node.elements = [], []
            weight = data.get("weight")
            weight = (
                None
                if weight is None
                else (int(weight) if weight == weight.to_integral_value() else float(weight))
            )
            parent = data.get("parent") or ""
            level = CRITERION if not parent else (ELEMENT if data.get("element") else SUBCRITERION)
            if base is None:
                changed = True
                node.id = ""
            elif (
                base.name != data["name"].strip()
                or base.weight != weight
                or (base.unit or "") != (data.get("unit") or "")
                or base.level != level
                or _parent_of(key) != parent
            ):
                changed = True
                node.corrected = True
            if base is not None and _parent_of(key) != parent:
                node.id = ""  # moved: a new id under its new parent
            node.name, node.weight, node.unit, node.level = (
                data["name"].strip(),
                weight,
                data.get("unit") or None,
                level,
            )
            node.written = node.written if base is not None and base.weight == weight else ""
            node.flag = ""
            if not parent:
                tops.append(node)
                by_key[key or f"new-{len(by_key)}"] = node
            else:
                children.append((parent, node))
        if set(old) - seen:
            changed = True
        for parent, node in children:
            host = by_key.get(parent)
            if host is None:
                continue
            (host.elements if node.level == ELEMENT else host.subcriteria).append(node)
        _stable_ids(tops, old)
        return tops, changed

    def _contents_from_rows(self) -> tuple[list[Content], bool]:
        old = self.contents
        changed = False
        contents, seen = [], set()
        for form in self.required.forms:
            data = getattr(form, "cleaned_data", {})
            deleted = bool(data.get("DELETE"))
            key = data.get("key") or ""
            text = (data.get("text") or "").strip()
            if deleted or not text:
                if key in old:
                    changed = True
                continue
            seen.add(key)
            base = old.get(key)
            content = Content(text=text) if base is None else copy.copy(base)
            criterion = data.get("criterion") or None
            if base is None or base.text != text or (base.criterion or None) != criterion:
                changed = True
                content.corrected = True
            content.text, content.criterion = text, criterion
            if base is None:
                content.id = ""
            contents.append(content)
        if set(old) - seen:
            changed = True
        used = {
            int(c.id[1:])
            for c in list(old.values()) + contents
            if re.fullmatch(r"R\d+", c.id or "")
        }
        following = max(used, default=0) + 1
        for content in contents:
            if not content.id:
                content.id = f"R{following}"
                following += 1
        return contents, changed


def _parent_of(key: str) -> str:
    """``C2.1`` → ``C2``; ``C2.E1`` → ``C2``; ``C2`` → ``""``."""
    return key.rsplit(".", 1)[0] if "." in key else ""


def _next(used: set[int]) -> int:
    value = max(used, default=0) + 1
    used.add(value)
    return value


def _stable_ids(tops: list[Criterion], old: dict[str, Criterion]) -> None:
    """Keep the ids of criteria that stay where they were; give the others the next
    free number at their level (never an id used before in this analysis)."""
    top_used = {int(k[1:]) for k in old if re.fullmatch(r"C\d+", k)}
    top_used |= {int(c.id[1:]) for c in tops if re.fullmatch(r"C\d+", c.id or "")}
    for criterion in tops:
        if not re.fullmatch(r"C\d+", criterion.id or ""):
            criterion.id = f"C{_next(top_used)}"
        prefix = f"{criterion.id}."
        sub_used = {
            int(k[len(prefix) :]) for k in old if re.fullmatch(rf"{re.escape(prefix)}\d+", k)
        }
        element_used = {
            int(k[len(prefix) + 1 :]) for k in old if re.fullmatch(rf"{re.escape(prefix)}E\d+", k)
        }
        for child in criterion.subcriteria:
            if not (child.id or "").startswith(prefix) or not re.fullmatch(
                rf"{re.escape(prefix)}\d+", child.id
            ):
                child.id = f"{prefix}{_next(sub_used)}"
            else:
                sub_used.add(int(child.id[len(prefix) :]))
        for element in criterion.elements:
            if not re.fullmatch(rf"{re.escape(prefix)}E\d+", element.id or ""):
                element.id = f"{prefix}E{_next(element_used)}"
            else:
                element_used.add(int(element.id[len(prefix) + 1 :]))


def preview_tree(forms: ReviewForms, analysis: Analysis) -> list[Criterion]:
    """The tree the page shows its shares and warnings for: the stored one (a saved
    correction comes back on the page that follows the save)."""
    tree = copy.deepcopy(analysis.criteria)
    normalise(tree)
    return tree


def display(name: str, value) -> str:
    """A fact's value as the page shows it."""
    if value is None or value == "":
        return "—"
    if name == "deadline":
        moment = _deadline_value(value)
        return moment.strftime("%d/%m/%Y %H:%M") if moment else str(value)
    if name == "site_visit":
        return str(dict(SITE_VISIT_CHOICES).get(value, value))
    if name == "variants_allowed":
        return str(_("yes") if value else _("no"))
    return str(value)
