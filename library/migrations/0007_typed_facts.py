"""Existing metadata of content blocks (and of their kept versions) into the typed
shape of library.facts, and each block's ``valid_until`` from it.

Forward, per type (unknown keys are always kept):

* person-cv: ``qualifications`` was a list of texts. Diplomas (BTS, licence, master…)
  move to ``diplomas``; the rest become rows ``{kind, label, mandatory}`` — the kind
  recognised from the text (CACES, SST, habilitation électrique, AIPR, travail en
  hauteur, amiante, échafaudage; else "other"), the text kept whole as the label,
  regulated kinds marked mandatory. A block-level ``valid_until`` becomes the expiry of
  the regulated rows (of every row when none is regulated, of a new "Qualification"
  row when there is none).
* equipment: ``designation`` from make and model when missing; ``owned`` (boolean)
  becomes ``ownership``; ``capacity`` from ``max_load_t``; a block-level
  ``valid_until`` becomes the next due date of a mandatory periodic inspection (VGP).
* certification: ``issuer`` becomes ``body``; ``scheme`` is recognised from the issuer,
  number and scope (Qualibat, MASE, ISO 9001/14001/45001, RGE, Qualifelec, OPQIBI;
  else "other").
* methodology-template: ``phases`` rows lose their ``order`` key (rows are ordered).
* company-profile: the SIRET loses its spaces. procedure, past-project-reference: as
  they were.

Backward, the old shape again (``qualifications`` as texts, ``valid_until`` from the
rows' dates, ``issuer``, ``owned``, ``order``). Rows are read with ``iterator()`` and
written back with ``bulk_update`` in batches: the conversion is per row (lists inside
JSON), so no single UPDATE can express it; only changed rows are written. The
functions below are frozen with the migration: the app's code may change later.
"""

import datetime
import re
import unicodedata

from django.db import migrations

BATCH = 1000

REGULATED = [
    ("caces", r"\bcaces\b"),
    ("sst", r"\bsst\b|sauveteur secouriste"),
    ("electrical", r"habilitation|electrique"),
    ("aipr", r"\baipr\b"),
    ("work-at-height", r"travail en hauteur|harnais"),
    ("asbestos", r"amiante|\bss[34]\b"),
    ("scaffolding", r"echafaudage"),
]
DIPLOMA = re.compile(
    r"^(bts|dut|but|licence|master|cap|bep|bac|baccalaureat|diplome|ingenieur|deust|"
    r"doctorat|titre professionnel|mastere)\b"
)
SCHEMES = [
    ("qualibat", r"qualibat"),
    ("mase", r"\bmase\b"),
    ("iso-9001", r"9001"),
    ("iso-14001", r"14001"),
    ("iso-45001", r"45001"),
    ("rge", r"\brge\b"),
    ("qualifelec", r"qualifelec"),
    ("opqibi", r"opqibi"),
]
KIND_TEXT = {
    "caces": "CACES",
    "sst": "SST",
    "electrical": "Habilitation électrique",
    "aipr": "AIPR",
    "work-at-height": "Travail en hauteur",
    "asbestos": "Amiante",
    "scaffolding": "Montage d'échafaudage",
    "other": "Qualification",
}


def _fold(text):
    text = unicodedata.normalize("NFKD", str(text))
    return "".join(c for c in text if not unicodedata.combining(c)).lower().strip()


def _date(value):
    try:
        return datetime.date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _qualification(text):
    folded = _fold(text)
    for kind, pattern in REGULATED:
        if re.search(pattern, folded):
            return {"kind": kind, "label": text, "mandatory": True}
    return {"kind": "other", "label": text, "mandatory": False}


def _cv_forward(meta):
    items = meta.get("qualifications")
    if isinstance(items, list) and any(isinstance(i, dict) for i in items):
        return meta  # already typed
    if isinstance(items, str):
        items = [part.strip() for part in re.split(r"[;\n]", items)]
    texts = [str(i).strip() for i in (items or []) if str(i).strip()]
    diplomas = list(meta.get("diplomas") or [])
    rows = []
    for text in texts:
        if DIPLOMA.match(_fold(text)):
            diplomas.append(text)
        else:
            rows.append(_qualification(text))
    until = _date(meta.pop("valid_until", None))
    if until:
        regulated = [r for r in rows if r["kind"] != "other"]
        if not rows:
            rows.append({"kind": "other", "label": "Qualification", "mandatory": True})
        for row in regulated or rows:
            row["expires_on"] = until.isoformat()
            row["mandatory"] = True
    meta["qualifications"] = rows
    if diplomas:
        meta["diplomas"] = diplomas
    return meta


def _cv_backward(meta):
    rows = meta.pop("qualifications", None) or []
    texts = list(meta.pop("diplomas", None) or [])
    dates = []
    for row in rows:
        if not isinstance(row, dict):
            texts.append(str(row))
            continue
        texts.append(row.get("label") or KIND_TEXT.get(row.get("kind"), "Qualification"))
        expires = _date(row.get("expires_on"))
        if expires and row.get("mandatory", True):
            dates.append(expires)
    meta["qualifications"] = texts
    if dates:
        meta["valid_until"] = min(dates).isoformat()
    return meta


def _equipment_forward(meta):
    if "designation" not in meta:
        designation = " ".join(str(meta.get(k) or "").strip() for k in ("make", "model")).strip()
        if designation:
            meta["designation"] = designation
    if "owned" in meta and "ownership" not in meta and isinstance(meta["owned"], bool):
        meta["ownership"] = "owned" if meta.pop("owned") else "rented"
    if "capacity" not in meta and isinstance(meta.get("max_load_t"), int | float):
        meta["capacity"] = f"{meta['max_load_t']} t".replace(".", ",")
    until = _date(meta.pop("valid_until", None))
    inspections = list(meta.get("inspections") or [])
    if until:
        inspections.append({"kind": "periodic", "next_on": until.isoformat(), "mandatory": True})
    meta["inspections"] = inspections
    return meta


def _equipment_backward(meta):
    rows = meta.pop("inspections", None) or []
    dates = [
        _date(r.get("next_on"))
        for r in rows
        if isinstance(r, dict) and r.get("mandatory", True) and _date(r.get("next_on"))
    ]
    if dates:
        meta["valid_until"] = min(dates).isoformat()
    if meta.get("ownership") in ("owned", "rented") and "owned" not in meta:
        meta["owned"] = meta.pop("ownership") == "owned"
    return meta


def _certification_forward(meta):
    if "issuer" in meta and "body" not in meta:
        meta["body"] = meta.pop("issuer")
    if not meta.get("scheme"):
        text = _fold(" ".join(str(meta.get(k) or "") for k in ("body", "number", "scope")))
        meta["scheme"] = next((s for s, p in SCHEMES if re.search(p, text)), "other")
    return meta


def _certification_backward(meta):
    if "body" in meta and "issuer" not in meta:
        meta["issuer"] = meta.pop("body")
    meta.pop("scheme", None)
    return meta


def _methodology_forward(meta):
    phases = meta.get("phases")
    if isinstance(phases, list) and all(isinstance(p, dict) for p in phases):
        ordered = sorted(phases, key=lambda p: (p.get("order") is None, p.get("order") or 0))
        meta["phases"] = [{k: v for k, v in p.items() if k != "order"} for p in ordered]
    return meta


def _methodology_backward(meta):
    phases = meta.get("phases")
    if isinstance(phases, list) and all(isinstance(p, dict) for p in phases):
        meta["phases"] = [{"order": n, **p} for n, p in enumerate(phases, start=1)]
    return meta


def _profile_forward(meta):
    if isinstance(meta.get("siret"), str):
        meta["siret"] = re.sub(r"[\s\u00a0\u202f.]", "", meta["siret"])
    return meta


FORWARD = {
    "person-cv": _cv_forward,
    "equipment": _equipment_forward,
    "certification": _certification_forward,
    "methodology-template": _methodology_forward,
    "company-profile": _profile_forward,
}
BACKWARD = {
    "person-cv": _cv_backward,
    "equipment": _equipment_backward,
    "certification": _certification_backward,
    "methodology-template": _methodology_backward,
}


def to_typed(block_type, metadata):
    meta = dict(metadata) if isinstance(metadata, dict) else {}
    convert = FORWARD.get(block_type)
    return convert(meta) if convert else meta


def to_legacy(block_type, metadata):
    meta = dict(metadata) if isinstance(metadata, dict) else {}
    convert = BACKWARD.get(block_type)
    return convert(meta) if convert else meta


def valid_until(block_type, meta):
    """The earliest expiry that matters (library.facts.validity as of this migration)."""
    if block_type == "person-cv":
        rows, key = meta.get("qualifications") or [], "expires_on"
    elif block_type == "equipment":
        rows, key = meta.get("inspections") or [], "next_on"
    elif block_type in ("certification", "procedure"):
        return _date(meta.get("valid_until"))
    else:
        return None
    dates = [
        _date(r.get(key))
        for r in rows
        if isinstance(r, dict) and r.get("mandatory", True) and _date(r.get(key))
    ]
    return min(dates) if dates else None


def _convert(apps, schema_editor, convert, with_validity):
    alias = schema_editor.connection.alias
    for name in ("ContentBlock", "ContentBlockVersion"):
        model = apps.get_model("library", name)
        manager = model.objects.using(alias)
        fields = ["metadata", "valid_until"] if with_validity and name == "ContentBlock" else []
        fields = fields or ["metadata"]
        changed = []
        rows = manager.only("pk", "type", *fields).order_by("pk").iterator(BATCH)
        for row in rows:
            new = convert(row.type, row.metadata)
            dirty = new != row.metadata
            row.metadata = new
            if "valid_until" in fields:
                until = valid_until(row.type, new)
                dirty = dirty or until != row.valid_until
                row.valid_until = until
            if dirty:
                changed.append(row)
            if len(changed) >= BATCH:
                manager.bulk_update(changed, fields)
                changed = []
        if changed:
            manager.bulk_update(changed, fields)


def forward(apps, schema_editor):
    _convert(apps, schema_editor, to_typed, with_validity=True)


def backward(apps, schema_editor):
    _convert(apps, schema_editor, to_legacy, with_validity=False)


class Migration(migrations.Migration):
    dependencies = [("library", "0006_contentblock_valid_until")]

    operations = [migrations.RunPython(forward, backward)]
