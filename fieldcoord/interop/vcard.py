# SPDX-License-Identifier: GPL-3.0-or-later
"""vCard 2.1, 3.0 and 4.0 in, vCard 3.0 or 4.0 out (interop layer).

Import reads what phones and mail clients really write: folded lines (also the 2.1 habit of
unindented base64 and quoted-printable soft line breaks), quoted-printable values in any CHARSET,
files in UTF-8, UTF-16 or a Windows code page, Apple's grouped labels (`item1.TEL` with
`item1.X-ABLabel`), several cards per file, and jCard (RFC 7095) and xCard (RFC 6351) files.
A card that cannot be read is reported with its file and line and skipped; the others import.

A person's card becomes a contact with its phones, emails, call sign, addresses, web pages and
messaging handles as contact methods; its ORG becomes the contact's agency (found by name or
code, created when missing). An organisation's own card (KIND:org, Apple's X-ABShowAs:COMPANY,
or a card with an ORG and no person's name) becomes the agency itself, with its lines.
Photos, logos, sounds and keys are not kept: the directory holds no pictures.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..core import ids
from ..core import kinds as K
from ..core.errors import NotFound, ValidationError
from .contacts import EXPORT_STOPPED, ContactIn, Directory, MethodIn, Pacer, rows_kept_apart
from .exporting import write_atomically
from .report import ExportReport, ImportReport
from .vcard_read import (
    BINARY,
    IM_PROPS,
    LABEL_TYPES,
    MESSAGING_RE,
    Card,
    CardError,
    Prop,
    parse_file,
    parts_of,
    text_of,
)
from .vcard_write import agency_card, contact_card


# ---------------------------------------------------------------------------- mapping
def _apple_label(text: str) -> str:
    m = re.fullmatch(r"_\$!<(.*)>!\$_", text.strip())
    return (m.group(1) if m else text).strip()


def _labels(card: Card) -> dict[str, str]:
    """Group name -> X-ABLabel text."""
    out = {}
    for p in card.props:
        if p.name == "X-ABLABEL" and p.group:
            out[p.group] = _apple_label(text_of(p, card))
    return out


def _type_label(prop: Prop) -> str | None:
    for t in LABEL_TYPES:
        if t in prop.types:
            return t
    return None


def _method(kind: str, value: str, label: str | None, prop: Prop) -> MethodIn:
    """A contact method with what fieldcoord's own parameters say (duty, verification)."""
    def one(key):
        got = prop.param(key)
        return got[0] if got else None
    return MethodIn(kind, value, label, _priority(prop), one("X-FIELDCOORD-DUTY"),
                    one("X-FIELDCOORD-VERIFIED"), one("X-FIELDCOORD-VERIFIED-BY"))


def _priority(prop: Prop) -> int | None:
    pref = prop.param("PREF") or prop.param("X-FIELDCOORD-PRIORITY")
    if pref:
        try:
            return max(1, min(100, int(pref[0])))
        except ValueError:
            return 1
    return 1 if "pref" in prop.types else None


def adr_text(parts: list[str]) -> str:
    """A postal address as one line: street, locality, region postcode, country."""
    parts = (list(parts) + [""] * 7)[:7]
    pobox, ext, street, locality, region, code, country = (
        ", ".join(x.strip() for x in p.splitlines() if x.strip()) for p in parts)
    tail = " ".join(x for x in (region, code) if x)
    return ", ".join(x for x in (pobox, ext, street, locality, tail, country) if x)


def _person_name(card: Card) -> str:
    for p in card.all("FN"):
        t = " ".join(text_of(p, card).split())
        if t:
            return t
    for p in card.all("N"):
        parts = parts_of(p, card)
        family, given, extra, prefix, suffix = (parts + [""] * 5)[:5]
        t = " ".join(x.replace(",", " ") for x in (prefix, given, extra, family, suffix) if x)
        t = " ".join(t.split())
        if t:
            return t
    return ""


def _has_person_name(card: Card) -> bool:
    for p in card.all("N"):
        if any(x.strip() for x in parts_of(p, card)[:3]):
            return True
    return False


@dataclass
class CardData:
    """What a card says, in the directory's terms."""
    name: str
    org: str | None
    is_org: bool
    fields: dict
    methods: list
    uid: str | None
    code: str | None
    address: str | None = None
    website: str | None = None
    photos: int = 0


def card_data(card: Card) -> CardData:  # noqa: C901 - a branch per vCard property; to split
    """Map one card to directory terms (no database access)."""
    labels = _labels(card)
    methods: list[MethodIn] = []
    fields: dict[str, str] = {}
    org = None
    for p in card.all("ORG"):
        parts = [x for x in parts_of(p, card) if x]
        if parts:
            org = " ".join(parts[0].split())
            break
    name = _person_name(card)
    kind = (card.all("KIND") or [None])[0]
    kind = text_of(kind, card).lower() if kind else ""
    show_as = (card.all("X-ABSHOWAS") or [None])[0]
    show_as = text_of(show_as, card).upper() if show_as else ""
    code_prop = card.all("X-FIELDCOORD-CODE")
    code = text_of(code_prop[0], card) if code_prop else None
    is_org = kind == "org" or show_as == "COMPANY" or bool(code) or (
        bool(org) and not _has_person_name(card) and (not name or name == org))
    photos = 0
    addresses: list[tuple[str | None, str]] = []
    websites: list[str] = []
    for p in card.props:
        label = labels.get(p.group) if p.group else None
        if p.name in BINARY:
            if p.name == "PHOTO" and p.value.strip():
                photos += 1
            continue
        if p.name == "TEL":
            value = text_of(p, card)
            if value.lower().startswith("tel:"):
                value = value[4:].replace(";ext=", " ext. ")
            ts = p.types
            low = (label or "").lower()
            if "fax" in ts or "fax" in low:
                k = "fax"
            elif "pager" in ts or "pager" in low:
                k = "pager"
            elif "satellite" in low:
                k = "satellite_phone"
            elif ts & {"cell", "mobile", "iphone"} or low in ("mobile", "cell", "iphone"):
                k = "mobile"
            else:
                k = "phone"
            if low in ("mobile", "cell", "fax", "pager", "satellite phone"):
                label = None
            methods.append(_method(k, value, label or _type_label(p), p))
        elif p.name == "EMAIL":
            value = text_of(p, card)
            if value.lower().startswith("mailto:"):
                value = value[7:]
            methods.append(_method("email", value, label or _type_label(p), p))
        elif p.name in ("X-FIELDCOORD-CALL-SIGN", "X-CALLSIGN", "X-CALL-SIGN"):
            methods.append(_method("call_sign", text_of(p, card), label, p))
        elif p.name == "ADR":
            text = adr_text(parts_of(p, card))
            if text:
                addresses.append((label or _type_label(p), text, p))
        elif p.name == "URL":
            value = text_of(p, card)
            if value:
                websites.append(value)
                if not is_org:
                    methods.append(MethodIn("other", value, label or "website"))
        elif p.name == "IMPP":
            value = text_of(p, card)
            service = (p.param("X-SERVICE-TYPE") or [None])[0] or (
                value.split(":", 1)[0] if ":" in value else "IM")
            methods.append(MethodIn("other", value, label or service))
        elif MESSAGING_RE.match(p.name):
            service = MESSAGING_RE.match(p.name).group(1).lower()
            for value in text_of(p, card).split("\ue000"):
                if value.strip():
                    methods.append(MethodIn("other", f"{service}:{value.strip()}",
                                            label or service))
        elif p.name in IM_PROPS:
            methods.append(MethodIn("other", text_of(p, card), label or IM_PROPS[p.name]))
        elif p.name == "X-FIELDCOORD-OTHER":
            methods.append(_method("other", text_of(p, card), label or "other", p))
        elif p.name == "TITLE" and "title" not in fields:
            fields["title"] = text_of(p, card)
        elif p.name == "ROLE" and "ics_position" not in fields:
            fields["ics_position"] = text_of(p, card)
        elif p.name in ("LANG", "X-FIELDCOORD-LANGUAGES"):
            got = text_of(p, card)
            if got:
                fields["languages"] = ", ".join(x for x in (fields.get("languages"), got) if x)
        elif p.name == "NOTE":
            got = text_of(p, card)
            if got:
                fields["notes"] = "\n\n".join(x for x in (fields.get("notes"), got) if x)
    if not addresses:
        for p in card.all("LABEL"):
            got = ", ".join(x.strip() for x in text_of(p, card).splitlines() if x.strip())
            if got:
                addresses.append((label_of_type(p), got, p))
    address = None
    if is_org and addresses:
        address = addresses.pop(0)[1]
    for label, text, p in addresses:
        methods.append(_method("other", text, f"{label} address" if label else "address", p))
    website = None
    if is_org and websites:
        website = websites[0]
        methods += [MethodIn("other", w, "website") for w in websites[1:]]
    uid = None
    for p in card.all("UID"):
        t = text_of(p, card).lower()
        t = t[9:] if t.startswith("urn:uuid:") else t
        if ids.looks_like_id(t):
            uid = t
    if is_org:
        name = org or name
    elif not name:
        firsts = [m.value for m in methods if m.kind == "email"] + \
            [m.value for m in methods if m.kind != "other"]
        name = firsts[0].strip() if firsts else ""
    return CardData(name, org, is_org, fields, methods, uid, code, address, website, photos)


def label_of_type(prop: Prop) -> str | None:
    return _type_label(prop)


def _card_problem(card: Card) -> str | None:
    if not card.props:
        return "the card is empty"
    return None


# ---------------------------------------------------------------------------- import
def import_files(store, paths, options: dict, progress=None, cancelled=None) -> ImportReport:
    """Import the cards of every file (see the module's docstring). Runs in the caller's
    transaction; each card is written in its own savepoint."""
    report = ImportReport("vcard")
    directory = Directory(store, report, options.get("scope"),
                          rows_kept_apart(options.get("no_match"), list(paths)))
    default_agency = None
    if options.get("agency"):
        default_agency = store.agency_id(str(options["agency"]).strip())
        if default_agency is None:
            raise ValidationError(f"no agency with code '{options['agency']}' in the directory")
    parsed = []
    for path in paths:
        path = Path(path)
        try:
            items = parse_file(path, options.get("encoding"))
        except CardError as e:
            report.skip(str(path), e.line, e.reason)
            continue
        except OSError as e:
            raise ValidationError(f"cannot read {path}: {e.strerror or e}") from None
        if not items:
            # the whole import fails, as for a file that is not a calendar or holds no CSV row
            raise ValidationError(f"{path}: no vCard in this file (no BEGIN:VCARD line)")
        parsed.append((str(path), items))
    total = sum(len(items) for _, items in parsed)
    pacer = Pacer(progress, cancelled, "Importing vCards", total)
    photos = 0
    for source, items in parsed:
        for item in items:
            pacer.step()
            if isinstance(item, CardError):
                report.skip(source, item.line, item.reason)
                continue
            problem = _card_problem(item)
            if problem:
                report.skip(item.source, item.line, problem)
                continue
            data = card_data(item)
            photos += data.photos
            _import_card(directory, item, data, default_agency, report)
    pacer.check()
    if photos:
        report.notes.append(f"{photos} photo{'s' if photos != 1 else ''} not imported: the "
                            "directory keeps no pictures")
    return report


def _import_card(directory: Directory, card: Card, data: CardData, default_agency,
                 report: ImportReport) -> None:
    if data.is_org:
        if not data.name:
            report.skip(card.source, card.line, "an organisation's card without a name")
            return
        values = {"name": data.name, "code": data.code, "address": data.address,
                  "website": data.website, "notes": data.fields.get("notes")}
        if not data.code and data.uid:
            row = directory.store.conn.execute("SELECT code FROM agency WHERE id = ? "
                                               "AND _cl % 2 = 1", (data.uid,)).fetchone()
            values["code"] = row[0] if row else None
        if values.get("website"):
            try:
                from ..core.validate import normalise_field
                agency = K.KINDS["agency"]
                normalise_field(agency, agency.field_map["website"], values["website"])
            except ValidationError:
                data.methods.append(MethodIn("other", values.pop("website"), "website"))
        directory.upsert_agency(values, card.source, card.line, data.methods)
        return
    agency = default_agency
    if data.org:
        agency = directory.agency_for(data.org, card.source, card.line) or agency
    directory.upsert_contact(ContactIn(data.name, card.source, card.line, agency, data.fields,
                                       data.methods, data.uid))


def select(store, options: dict) -> tuple[list, list]:
    """(contacts, agencies) chosen by options ids / agency / search; everything when none."""
    contacts, agencies = {}, {}
    if options.get("ids"):
        for rid in options["ids"]:
            try:
                rec = store.get(str(rid))
            except NotFound:
                raise ValidationError(f"no record with id {rid}") from None
            if rec.deleted:
                raise ValidationError(f"{rec.kind} '{rec.title}' is deleted")
            if rec.kind == "contact":
                contacts[rec.id] = rec
            elif rec.kind == "agency":
                agencies[rec.id] = rec
            else:
                raise ValidationError(f"{rid} is a {K.KINDS[rec.kind].label}; only contacts "
                                      "and agencies export as vCard")
    if options.get("agency"):
        code = str(options["agency"]).strip()
        aid = store.agency_id(code)
        if aid is None:
            raise ValidationError(f"no agency with code '{code}' in the directory")
        agencies[aid] = store.get(aid)
        for rec in store.children("contact", "agency", aid):
            contacts[rec.id] = rec
    if options.get("search"):
        for hit in store.search(str(options["search"]), limit=100_000):
            if hit.kind == "contact":
                contacts.setdefault(hit.id, store.get(hit.id))
            elif hit.kind == "agency":
                agencies.setdefault(hit.id, store.get(hit.id))
            elif hit.kind == "method":
                m = store.get(hit.id)
                owner = m.values.get("contact") or m.values.get("agency")
                if owner:
                    rec = store.get(owner)
                    (contacts if rec.kind == "contact" else agencies).setdefault(rec.id, rec)
    if not (options.get("ids") or options.get("agency") or options.get("search")):
        for rec in store.list("contact"):
            contacts[rec.id] = rec
        with_lines = {r[0] for r in store.conn.execute(
            "SELECT DISTINCT agency FROM contact_method WHERE contact IS NULL AND _cl % 2 = 1")}
        for rec in store.list("agency"):
            if rec.id in with_lines or rec.values.get("address"):
                agencies[rec.id] = rec
    return list(contacts.values()), list(agencies.values())


def _methods_by_holder(store) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    order = {k: i for i, k in enumerate(K.METHOD_KINDS)}
    for contact, agency, kind, value, label, priority, duty, verified_on, verified_by in \
            store.conn.execute("SELECT contact, agency, kind, value, label, priority, duty, "
                               "verified_on, verified_by FROM contact_method WHERE _cl % 2 = 1"):
        out.setdefault(contact or f"a:{agency}", []).append(
            {"kind": kind, "value": value, "label": label, "priority": priority, "duty": duty,
             "verified_on": verified_on, "verified_by": verified_by})
    for items in out.values():
        items.sort(key=lambda m: (m["priority"] or 10_000, order.get(m["kind"], 99)))
    return out


def export_file(store, path: Path, options: dict, progress=None,
                cancelled=None) -> ExportReport:
    """Write the selected contacts and agencies as vCard 3.0 (or 4.0) to `path`."""
    version = str(options.get("vcard_version") or "3.0").strip()
    version = {"3": "3.0", "4": "4.0"}.get(version, version)
    if version not in ("3.0", "4.0"):
        raise ValidationError(f"vCard version '{version}' cannot be written; use 3.0 or 4.0")
    contacts, agencies = select(store, options)
    report = ExportReport("vcard", str(path))
    methods = _methods_by_holder(store)
    names = {rid: {"name": name, "code": code} for rid, name, code in store.conn.execute(
        "SELECT id, name, code FROM agency")}
    pacer = Pacer(progress, cancelled, "Exporting vCards", len(contacts) + len(agencies),
                  stopped=EXPORT_STOPPED)
    chunks = []
    for rec in sorted(agencies, key=lambda r: r.values["name"].casefold()):
        chunks.append(agency_card(rec, methods.get(f"a:{rec.id}", []), version))
        report.written["agency"] += 1
        pacer.step()
    for rec in sorted(contacts, key=lambda r: (r.values["name"].casefold(), r.id)):
        chunks.append(contact_card(rec, names.get(rec.values.get("agency")),
                                   methods.get(rec.id, []), version))
        report.written["contact"] += 1
        pacer.step()
    if not chunks:
        report.notes.append("nothing matched the selection; the file holds no card")
    try:
        write_atomically(Path(path), "".join(chunks).encode("utf-8"))
    except OSError as e:
        raise ValidationError(f"cannot write {path}: {e.strerror or e}") from None
    return report
