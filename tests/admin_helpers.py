"""Helpers for tests that drive the admin with ``django.test.Client``.

``form_data`` reads a form out of a page the way a browser would submit it (hidden
inputs such as ``expected_version`` and the inline management forms included), so a
test can GET a change page, edit a value or two and POST it back.
"""

from __future__ import annotations

import json
from html.parser import HTMLParser

from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from audit.models import AuditLog

#: Where the requests of the tests come from: checked in the audit rows.
IP = "203.0.113.7"
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) pytest-admin/1.0"
META = {"REMOTE_ADDR": IP, "HTTP_USER_AGENT": USER_AGENT}


def admin_client(user=None) -> Client:
    """A client speaking English (messages are compared as text), logged in as ``user``."""
    client = Client(headers={"accept-language": "en"})
    if user is not None:
        client.force_login(user)
    return client


class FormParser(HTMLParser):
    """The fields of one form (``form_id``, or the first form) in document order, as a
    browser would submit them; inline empty-form rows (``__prefix__``) included."""

    _IGNORED_INPUTS = {"submit", "button", "image", "reset", "file"}

    def __init__(self, form_id: str | None):
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.inside = False
        self.found = False
        self.fields: list[tuple[str, str]] = []
        self._textarea: tuple[str, list[str]] | None = None
        self._select: dict | None = None
        self._option: dict | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            if not self.found and (self.form_id is None or attrs.get("id") == self.form_id):
                self.inside = self.found = True
            return
        if not self.inside:
            return
        name = attrs.get("name")
        if tag == "input" and name:
            kind = (attrs.get("type") or "text").lower()
            if kind in self._IGNORED_INPUTS:
                return
            if kind in ("checkbox", "radio"):
                if "checked" in attrs:
                    self.fields.append((name, attrs.get("value") or "on"))
                return
            self.fields.append((name, attrs.get("value") or ""))
        elif tag == "textarea" and name:
            self._textarea = (name, [])
        elif tag == "select" and name:
            self._select = {"name": name, "multiple": "multiple" in attrs, "options": []}
        elif tag == "option" and self._select is not None:
            self._option = {
                "value": attrs.get("value"),
                "selected": "selected" in attrs,
                "text": "",
            }
            self._select["options"].append(self._option)

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1].append(data)
        elif self._option is not None:
            self._option["text"] += data

    def handle_endtag(self, tag):
        if tag == "form" and self.inside:
            self.inside = False
        elif tag == "textarea" and self._textarea is not None:
            name, parts = self._textarea
            text = "".join(parts)
            # Browsers drop the newline that follows <textarea>.
            self.fields.append((name, text[1:] if text.startswith("\n") else text))
            self._textarea = None
        elif tag == "option":
            self._option = None
        elif tag == "select" and self._select is not None:
            options = self._select["options"]
            values = [o["value"] if o["value"] is not None else o["text"] for o in options]
            chosen = [v for o, v in zip(options, values, strict=True) if o["selected"]]
            non_empty = [v for v in values if v]
            if "__prefix__" in self._select["name"] and not any(chosen) and non_empty:
                chosen = non_empty[:1]  # an inline's empty row: its first real choice
            elif not chosen and not self._select["multiple"]:
                chosen = values[:1] or [""]  # what a browser sends
            self.fields.extend((self._select["name"], v) for v in chosen)
            self._select = None


def parse_form(html: str, form_id: str | None = None) -> FormParser:
    parser = FormParser(form_id)
    parser.feed(html)
    return parser


def form_data(response, form_id: str | None = None) -> dict[str, str | list[str]]:
    """The values a browser would POST from the form ``form_id`` (or the first form)
    of ``response``: one string per field, a list where a name repeats."""
    parser = parse_form(response.content.decode(), form_id)
    assert parser.found, f"no form {form_id!r} in the page"
    data: dict[str, list[str]] = {}
    for name, value in parser.fields:
        if "__prefix__" not in name:  # the empty form template of an inline
            data.setdefault(name, []).append(value)
    return {k: v[0] if len(v) == 1 else v for k, v in data.items()}


def change_form(client, obj, **extra):
    """GET the admin change page of ``obj`` and return (response, form data)."""
    opts = obj._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
    response = client.get(url, **extra)
    assert response.status_code == 200, response.status_code
    return response, form_data(response, f"{opts.model_name}_form")


def changelist_url(model) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def run_action(client, model, action: str, objects, *, data=None, **extra):
    """POST a changelist action on ``objects`` (instances or ids)."""
    payload = {
        "action": action,
        "index": "0",
        "_selected_action": [str(getattr(o, "pk", o)) for o in objects],
        **(data or {}),
    }
    return client.post(changelist_url(model), payload, **extra)


def messages_of(response) -> list[tuple[str, str]]:
    """(level tag, text) of the messages added while handling ``response`` (not those
    left over from an earlier request whose redirect the test did not follow)."""
    storage = get_messages(response.wsgi_request)
    return [(m.level_tag, str(m)) for m in storage._queued_messages]


def errors_of(response) -> list[str]:
    return [text for level, text in messages_of(response) if level == "error"]


def new_audit_rows(before_ids) -> list[AuditLog]:
    """Audit rows not in ``before_ids`` (a set of ids taken before the request)."""
    return list(AuditLog.objects.exclude(pk__in=before_ids).order_by("timestamp", "action"))


def audit_ids() -> set:
    return set(AuditLog.objects.values_list("pk", flat=True))


def row_json(entry: AuditLog) -> str:
    """Every column of an audit row as one JSON text (to search it for secrets)."""
    values = AuditLog.objects.filter(pk=entry.pk).values().get()
    return json.dumps(values, default=str, ensure_ascii=False)
