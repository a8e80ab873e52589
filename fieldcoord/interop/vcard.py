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

import json
import quopri
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from ..core import ids
from ..core import kinds as K
from ..core.errors import NotFound, ValidationError
from .contacts import ContactIn, Directory, MethodIn, Pacer
from .exporting import write_atomically
from .report import ExportReport, ImportReport
from .textfile import decode as decode_text

# ---------------------------------------------------------------------------- reading
_NAME_RE = re.compile(r"^(?:([A-Za-z0-9_-]+)\.)?([A-Za-z0-9_-]+(?:/[A-Za-z0-9_-]+)*)")
_PROP_START = re.compile(r"^(?:[A-Za-z0-9_-]+\.)?[A-Za-z0-9_-]+(?:/[A-Za-z0-9_-]+)*\s*[;:]")
_MESSAGING_RE = re.compile(r"X-MESSAGING/([A-Z0-9_]+?)(?:-ALL)?$")
_BARE_NAMES = {"FN", "N", "ORG", "TITLE", "NOTE", "BEGIN", "END", "VERSION", "NICKNAME",
               "ROLE", "LABEL", "URL", "EMAIL", "TEL", "ADR", "UID", "PHOTO", "BDAY"}
_ENCODINGS = {"QUOTED-PRINTABLE", "BASE64", "B", "8BIT", "7BIT"}
_BINARY = {"PHOTO", "LOGO", "SOUND", "KEY"}
_SINGLE_BYTE = {"cp1252", "latin-1", "iso8859-1", "cp1251", "cp1250", "iso8859-15"}


@dataclass
class Prop:
    name: str
    group: str | None
    params: dict
    value: str
    line: int
    parts: list | None = None      # already decoded components (jCard, xCard)

    def param(self, key: str) -> list[str]:
        return self.params.get(key, [])

    @property
    def types(self) -> set[str]:
        return {t.lower() for t in self.param("TYPE")}


@dataclass
class Card:
    source: str
    line: int
    props: list = field(default_factory=list)
    encoding: str = "utf-8"

    def all(self, name: str) -> list[Prop]:
        return [p for p in self.props if p.name == name]

    @property
    def version(self) -> str:
        got = self.all("VERSION")
        return got[0].value.strip() if got else "2.1"


class CardError(Exception):
    def __init__(self, line: int, reason: str):
        super().__init__(reason)
        self.line = line
        self.reason = reason


def _caret(text: str) -> str:
    """RFC 6868 parameter value escapes."""
    if "^" not in text:
        return text
    return re.sub(r"\^(.)", lambda m: {"n": "\n", "'": '"', "^": "^"}.get(m.group(1),
                                                                         m.group(0)), text)


def _split_outside_quotes(text: str, sep: str) -> list[str]:
    if '"' not in text:
        return text.split(sep)
    out, cur, quoted = [], [], False
    for ch in text:
        if ch == '"':
            quoted = not quoted
            cur.append(ch)
        elif ch == sep and not quoted:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    out.append("".join(cur))
    return out


def parse_line(text: str, line: int) -> Prop:
    """One unfolded content line: group.NAME;param=value;...:value."""
    m = _NAME_RE.match(text)
    if not m:
        raise CardError(line, f"cannot read the line '{text[:40]}'")
    group, name = m.group(1), m.group(2).upper()
    rest = text[m.end():].lstrip(" ")
    params: dict[str, list[str]] = {}
    quoted, colon = False, rest.find(":")
    if colon >= 0 and '"' in rest[:colon]:
        colon = -1
        for i, ch in enumerate(rest):
            if ch == '"':
                quoted = not quoted
            elif ch == ":" and not quoted:
                colon = i
                break
    if colon < 0:
        if quoted:
            # an unclosed quote in a parameter: take the first colon after all
            colon = rest.find(":")
        if colon < 0:
            if not rest.strip(" ;") and name in _BARE_NAMES:
                return Prop(name, group and group.lower(), params, "", line)
            raise CardError(line, f"property {name} has no ':' before its value")
    head, value = rest[:colon], rest[colon + 1:]
    for item in _split_outside_quotes(head, ";"):
        item = item.strip()
        if not item:
            continue
        if "=" in item:
            key, val = item.split("=", 1)
            key = key.strip().upper()
            vals = [_caret(v.strip().strip('"')) for v in _split_outside_quotes(val, ",")]
            if key == "TYPE":
                vals = [x.strip().strip('"') for v in vals for x in v.split(",")]
        else:
            val = item.strip('"')
            key = "ENCODING" if val.upper() in _ENCODINGS else \
                "CHARSET" if val.upper().startswith("CHARSET") else "TYPE"
            vals = [val]
        params.setdefault(key, []).extend(v for v in vals if v != "")
    return Prop(name, group and group.lower(), params, value, line)


def _is_qp(text: str) -> bool:
    head = text.split(":", 1)[0].upper()
    return "QUOTED-PRINTABLE" in head


def _logical_lines(text: str) -> list[list]:
    """Unfold: [line number, text] per content line."""
    out: list[list] = []
    qp_open = False
    for i, raw in enumerate(re.split(r"\r*\n|\r", text), 1):
        if not raw.strip():
            qp_open = False
            continue
        if out and qp_open:
            # quoted-printable soft line break: the '=' ends the line, the next one continues
            out[-1][1] = out[-1][1][:-1] + raw.lstrip() if raw[:1] in " \t" else \
                out[-1][1][:-1] + raw
        elif raw[0] in " \t" and out:
            out[-1][1] += raw[1:]
        elif out and not _PROP_START.match(raw) and not (
                raw.strip().upper() in _BARE_NAMES or raw.strip().upper().startswith("X-")):
            # unindented continuation: 2.1 base64 blocks, a bare line break inside a value
            out[-1][1] += raw.strip()
        else:
            out.append([i, raw])
        last = out[-1][1] if out else ""
        qp_open = last.endswith("=") and _is_qp(last)
    return out


def read_cards(text: str, source: str, encoding: str = "utf-8"):
    """Yield each Card of a vCard text, or a CardError for a card that cannot be read."""
    card: Card | None = None
    broken: CardError | None = None
    nested = 0
    after_agent = False
    for line, raw in _logical_lines(text):
        try:
            prop = parse_line(raw, line)
        except CardError as e:
            if card is not None and broken is None:
                broken = e
            continue
        if prop.name == "BEGIN" and prop.value.strip().upper() == "VCARD":
            if card is not None and after_agent:
                nested += 1
                continue
            if card is not None:
                yield CardError(card.line, f"the card starting on line {card.line} has no "
                                           "END:VCARD before the next card")
            card, broken, nested = Card(source, line, encoding=encoding), None, 0
            after_agent = False
            continue
        after_agent = prop.name == "AGENT" and not prop.value.strip()
        if prop.name == "END" and prop.value.strip().upper() == "VCARD":
            if nested:
                nested -= 1
            elif card is not None:
                if broken is not None:
                    yield CardError(broken.line, broken.reason)
                else:
                    yield card
                card = None
            continue
        if card is not None and not nested:
            card.props.append(prop)
    if card is not None:
        yield CardError(card.line, f"the card starting on line {card.line} has no END:VCARD "
                                   "(the file ends first)")


def _unescape(text: str) -> str:
    if "\\" not in text:
        return text
    return re.sub(r"\\([nN,;:\\])", lambda m: "\n" if m.group(1) in "nN" else m.group(1), text)


def _split_unescaped(text: str, sep: str = ";") -> list[str]:
    if "\\" not in text:
        return text.split(sep)
    out, cur, i = [], [], 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            cur.append(text[i:i + 2])
            i += 2
            continue
        if ch == sep:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
        i += 1
    out.append("".join(cur))
    return out


def _raw_text(prop: Prop, card: Card) -> str:
    """The property's value with transfer encodings and charsets undone (still escaped)."""
    value = prop.value
    enc = {e.upper() for e in prop.param("ENCODING")}
    charset = (prop.param("CHARSET") or [None])[0]
    if "QUOTED-PRINTABLE" in enc:
        try:
            data = value.encode(card.encoding if card.encoding in _SINGLE_BYTE else "utf-8",
                                errors="replace")
        except LookupError:
            data = value.encode("utf-8", errors="replace")
        data = quopri.decodestring(data)
        for cs in (charset, "utf-8", "cp1252"):
            if not cs:
                continue
            try:
                return data.decode(cs)
            except (UnicodeDecodeError, LookupError):
                continue
        return data.decode("latin-1")
    if charset and card.encoding in _SINGLE_BYTE:
        try:
            return value.encode(card.encoding).decode(charset)
        except (UnicodeError, LookupError):
            return value
    return value


def text_of(prop: Prop, card: Card) -> str:
    if prop.parts is not None:
        return ", ".join(p for p in prop.parts if p)
    return _unescape(_raw_text(prop, card)).strip()


def parts_of(prop: Prop, card: Card) -> list[str]:
    if prop.parts is not None:
        return [str(p or "") for p in prop.parts]
    return [_unescape(p).strip() for p in _split_unescaped(_raw_text(prop, card))]


# ---------------------------------------------------------------------------- jCard / xCard
def _jcard_cards(data, source: str):
    items = data if isinstance(data, list) and data and isinstance(data[0], list) else [data]
    for n, item in enumerate(items, 1):
        if not (isinstance(item, list) and len(item) == 2 and str(item[0]).lower() == "vcard"
                and isinstance(item[1], list)):
            yield CardError(n, f"jCard {n} is not a [\"vcard\", [properties]] array")
            continue
        card = Card(source, n, encoding="utf-8")
        try:
            for prop in item[1]:
                name, params, _type, *values = prop
                params = {str(k).upper(): [str(x) for x in (v if isinstance(v, list) else [v])]
                          for k, v in (params or {}).items()}
                flat: list[str] = []
                for v in values:
                    if isinstance(v, list):
                        flat += [", ".join(map(str, x)) if isinstance(x, list) else str(x)
                                 for x in v]
                    else:
                        flat.append(str(v))
                card.props.append(Prop(str(name).upper(), params.pop("GROUP", [None])[0],
                                       params, ";".join(flat), n, parts=flat))
        except (TypeError, ValueError, AttributeError):
            yield CardError(n, f"jCard {n} has a property that is not [name, params, type, "
                               "value]")
            continue
        yield card


_XNS = "{urn:ietf:params:xml:ns:vcard-4.0}"
_XPARTS = {"N": ("surname", "given", "additional", "prefix", "suffix"),
           "ADR": ("pobox", "ext", "street", "locality", "region", "code", "country")}


def _xcard_cards(root, source: str):
    cards = root.iter(f"{_XNS}vcard")
    for n, el in enumerate(cards, 1):
        card = Card(source, n, encoding="utf-8")

        def add(prop_el, group=None):
            name = prop_el.tag.replace(_XNS, "").upper()
            params: dict[str, list[str]] = {}
            pel = prop_el.find(f"{_XNS}parameters")
            if pel is not None:
                for p in pel:
                    params[p.tag.replace(_XNS, "").upper()] = [
                        (v.text or "") for v in p]
            if name in _XPARTS:
                parts = [", ".join(x.text or "" for x in prop_el.findall(f"{_XNS}{tag}"))
                         for tag in _XPARTS[name]]
            else:
                parts = [", ".join((v.text or "").strip() for v in prop_el
                                   if v.tag != f"{_XNS}parameters")]
            card.props.append(Prop(name, group, params, ";".join(parts), n, parts=parts))

        for child in el:
            if child.tag == f"{_XNS}group":
                for sub in child:
                    add(sub, child.get("name"))
            else:
                add(child)
        yield card


def parse_file(path: Path, encoding: str | None = None):
    """(cards and CardErrors, number of cards) of one file of any of the vCard syntaxes."""
    data = path.read_bytes()
    if not encoding and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            # a fold in the middle of a UTF-8 sequence: unfold the bytes, then decode
            unfolded = re.sub(rb"(?:\r*\n|\r)[ \t]", b"", data)
            try:
                unfolded.decode("utf-8")
                data = unfolded
            except UnicodeDecodeError:
                pass
    text, used = decode_text(data, encoding)
    head = text.lstrip("\ufeff \r\n\t")[:1]
    if head == "[":
        try:
            return list(_jcard_cards(json.loads(text), str(path)))
        except json.JSONDecodeError as e:
            raise CardError(e.lineno, f"not a valid jCard (JSON) file: {e.msg}") from None
    if head == "<":
        try:
            return list(_xcard_cards(ET.fromstring(text.encode("utf-8")
                                                   if not text.lstrip().startswith("<?xml")
                                                   else data), str(path)))
        except ET.ParseError as e:
            raise CardError(e.position[0], f"not a valid xCard (XML) file: {e}") from None
    return list(read_cards(text, str(path), used))


# ---------------------------------------------------------------------------- mapping
_LABEL_TYPES = ("work", "home", "main", "other", "car", "school")
_IM_PROPS = {"X-AIM": "AIM", "X-JABBER": "Jabber", "X-SKYPE": "Skype",
             "X-SKYPE-USERNAME": "Skype", "X-GTALK": "Google Talk", "X-GOOGLE-TALK": "Google Talk",
             "X-MSN": "MSN", "X-YAHOO": "Yahoo", "X-ICQ": "ICQ", "X-QQ": "QQ",
             "X-MS-IMADDRESS": "IM", "X-GADUGADU": "Gadu-Gadu", "X-TWITTER": "Twitter"}
_IM_BY_LABEL = {v.lower(): k for k, v in reversed(list(_IM_PROPS.items()))}


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
    for t in _LABEL_TYPES:
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


def card_data(card: Card) -> CardData:
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
        if p.name in _BINARY:
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
        elif _MESSAGING_RE.match(p.name):
            service = _MESSAGING_RE.match(p.name).group(1).lower()
            for value in text_of(p, card).split("\ue000"):
                if value.strip():
                    methods.append(MethodIn("other", f"{service}:{value.strip()}",
                                            label or service))
        elif p.name in _IM_PROPS:
            methods.append(MethodIn("other", text_of(p, card), label or _IM_PROPS[p.name]))
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
    directory = Directory(store, report, options.get("scope"))
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
            report.skip(str(path), None, "no vCard in this file (no BEGIN:VCARD line)")
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


# ---------------------------------------------------------------------------- writing
def escape(text: str) -> str:
    return (str(text).replace("\\", "\\\\").replace("\r\n", "\n").replace("\r", "\n")
            .replace("\n", "\\n").replace(",", "\\,").replace(";", "\\;"))


def _param(value: str) -> str:
    v = str(value).replace('"', "'").replace("\n", " ")
    return f'"{v}"' if re.search(r'[;:,\s]', v) else v


def fold(line: str) -> str:
    """Fold a content line at 75 octets (never inside a UTF-8 sequence), CRLF-terminated."""
    data = line.encode("utf-8")
    if len(data) <= 75:
        return line + "\r\n"
    out, start, limit = [], 0, 75
    while start < len(data):
        end = min(start + limit, len(data))
        while end < len(data) and (data[end] & 0xC0) == 0x80:
            end -= 1
        out.append(data[start:end].decode("utf-8"))
        start, limit = end, 74
    return "\r\n ".join(out) + "\r\n"


_TEL_TYPES = {"phone": "voice", "mobile": "cell", "fax": "fax", "pager": "pager",
              "satellite_phone": "voice"}


class _CardWriter:
    def __init__(self, version: str):
        self.v4 = version == "4.0"
        self.lines: list[str] = []
        self.items = 0

    def add(self, name: str, value: str, params=(), label: str | None = None) -> None:
        head = name
        if label:
            self.items += 1
            group = f"item{self.items}"
            head = f"{group}.{name}"
        for key, val in params:
            head += f";{key}={val}"
        self.lines.append(f"{head}:{value}")
        if label:
            self.lines.append(f"{group}.X-ABLabel:{escape(label)}")

    def types(self, *names: str) -> tuple:
        names = [n for n in names if n]
        if not names:
            return ()
        return (("TYPE", ",".join(n if self.v4 else n.upper() for n in names)),)


def _label_split(label: str | None) -> tuple[str | None, str | None]:
    """(TYPE value, custom label) for a method's label."""
    if not label:
        return None, None
    low = label.strip().lower()
    if low in _LABEL_TYPES:
        return low, None
    return None, label


def _write_method(w: _CardWriter, m: dict) -> None:
    kind, value, label = m["kind"], m["value"], m["label"]
    params: list = []
    pref = m.get("priority")
    if m.get("duty"):
        params.append(("X-FIELDCOORD-DUTY", _param(m["duty"])))
    if m.get("verified_on"):
        params.append(("X-FIELDCOORD-VERIFIED", m["verified_on"]))
    if m.get("verified_by"):
        params.append(("X-FIELDCOORD-VERIFIED-BY", _param(m["verified_by"])))
    if pref and (pref > 1 or kind not in ("email", *_TEL_TYPES)) and not w.v4:
        # 3.0 knows only TYPE=pref (the first); the order of the others is kept for fieldcoord
        params.append(("X-FIELDCOORD-PRIORITY", str(pref)))
    elif pref and w.v4 and kind not in ("email", *_TEL_TYPES):
        params.append(("PREF", str(pref)))
    if kind in _TEL_TYPES:
        typ, custom = _label_split(label)
        if kind == "satellite_phone" and not custom:
            custom = "satellite phone"
        names = [typ, _TEL_TYPES[kind]]
        if w.v4:
            if pref:
                params.append(("PREF", str(pref)))
            if value.startswith("+") and re.fullmatch(r"\+\d+(;ext=\d+)?", value):
                w.add("TEL", f"tel:{value}", (("VALUE", "uri"), *w.types(*names), *params),
                      custom)
                return
        elif pref == 1:
            names.append("pref")
        w.add("TEL", escape(value.replace(";ext=", " ext. ")),
              (*w.types(*names), *params), custom)
    elif kind == "email":
        typ, custom = _label_split(label)
        names = [None if w.v4 else "internet", typ]
        if w.v4 and pref:
            params.append(("PREF", str(pref)))
        elif pref == 1:
            names.append("pref")
        w.add("EMAIL", escape(value), (*w.types(*names), *params), custom)
    elif kind == "call_sign":
        w.add("X-FIELDCOORD-CALL-SIGN", escape(value), params, label)
    else:
        low = (label or "").strip().lower()
        words = low.split()
        last = words[-1] if words else ""
        first = words[0] if len(words) > 1 else None
        typ = first if first in _LABEL_TYPES else None
        custom_prefix = None if typ or len(words) < 2 else " ".join(label.split()[:-1])
        if last == "address":
            w.add("ADR", ";;" + escape(value) + ";;;;", (*w.types(typ), *params), custom_prefix)
        elif last in ("phone", "mobile", "fax", "pager"):
            names = [typ, {"phone": "voice", "mobile": "cell"}.get(last, last)]
            w.add("TEL", escape(value), (*w.types(*names), *params), custom_prefix)
        elif last == "email":
            w.add("EMAIL", escape(value), (*w.types(typ), *params), custom_prefix)
        elif low in ("website", "url", "homepage", "web page") or (
                not label and re.match(r"https?://", value)):
            w.add("URL", escape(value).replace("\\,", ","), params)
        elif re.match(r"(xmpp|sip|irc|skype|aim|icq|msnim|ymsgr|twitter|gg|qq|im|impp):",
                      value, re.I) and value.split(":", 1)[0].lower() == low:
            w.add("IMPP", value, params)
        elif low in _IM_BY_LABEL:
            w.add(_IM_BY_LABEL[low], escape(value), params)
        else:
            w.add("X-FIELDCOORD-OTHER", escape(value), params, label or "other")


_PREFIXES = {"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sgt", "lt", "capt", "cpt", "chief",
             "rev", "hon", "sir"}
_SUFFIXES = {"jr", "sr", "ii", "iii", "iv", "phd", "md", "esq", "rn", "emt", "cem"}


def _n_value(name: str) -> str:
    """N: family;given;additional;prefix;suffix of a display name (the last word is taken as
    the family name, or what comes before a comma)."""
    if "," in name:
        family, given = [x.strip() for x in name.split(",", 1)]
        return f"{escape(family)};{escape(given)};;;"
    words = name.split()
    prefix, suffix = [], []
    while len(words) > 1 and words[0].rstrip(".").lower() in _PREFIXES:
        prefix.append(words.pop(0))
    while len(words) > 1 and words[-1].rstrip(".").lower() in _SUFFIXES:
        suffix.insert(0, words.pop())
    family, given = (words[-1], words[:-1]) if len(words) > 1 else (" ".join(words), [])
    first, extra = (given[0], " ".join(given[1:])) if given else ("", "")
    return ";".join(escape(x) for x in (family, first, extra, " ".join(prefix),
                                         " ".join(suffix)))


def _rev(updated: str | None) -> str | None:
    if not updated:
        return None
    digits = re.sub(r"[^0-9TZ]", "", updated[:19].replace(" ", "T"))
    return digits + ("Z" if not digits.endswith("Z") else "") if len(digits) >= 15 else None


def _begin(w: _CardWriter, rid: str, version: str) -> None:
    w.lines += ["BEGIN:VCARD", f"VERSION:{version}", "PRODID:-//fieldcoord//NONSGML fieldcoord//EN",
                f"UID:urn:uuid:{rid}"]


def contact_card(rec, agency: dict | None, methods: list[dict], version: str) -> str:
    w = _CardWriter(version)
    _begin(w, rec.id, version)
    if w.v4:
        w.lines.append("KIND:individual")
    w.lines.append(f"FN:{escape(rec.values['name'])}")
    w.lines.append(f"N:{_n_value(rec.values['name'])}")
    if agency:
        w.lines.append(f"ORG:{escape(agency['name'])}")
    v = rec.values
    if v.get("title"):
        w.lines.append(f"TITLE:{escape(v['title'])}")
    if v.get("ics_position"):
        w.lines.append(f"ROLE:{escape(v['ics_position'])}")
    if v.get("languages"):
        if w.v4:
            for lang in [x.strip() for x in re.split(r"[,;]", v["languages"]) if x.strip()]:
                w.lines.append(f"LANG:{escape(lang)}")
        else:
            w.lines.append(f"X-FIELDCOORD-LANGUAGES:{escape(v['languages'])}")
    for m in methods:
        _write_method(w, m)
    if v.get("notes"):
        w.lines.append(f"NOTE:{escape(v['notes'])}")
    rev = _rev(rec.updated_at)
    if rev:
        w.lines.append(f"REV:{rev}")
    w.lines.append("END:VCARD")
    return "".join(fold(line) for line in w.lines)


def agency_card(rec, methods: list[dict], version: str) -> str:
    w = _CardWriter(version)
    _begin(w, rec.id, version)
    v = rec.values
    if w.v4:
        w.lines.append("KIND:org")
    w.lines.append(f"FN:{escape(v['name'])}")
    if not w.v4:
        w.lines.append("N:;;;;")
    w.lines.append(f"ORG:{escape(v['name'])}")
    if not w.v4:
        w.lines.append("X-ABShowAs:COMPANY")
    w.lines.append(f"X-FIELDCOORD-CODE:{escape(v['code'])}")
    if v.get("address"):
        w.add("ADR", ";;" + escape(v["address"]) + ";;;;", w.types("work"))
    if v.get("website"):
        w.lines.append(f"URL:{escape(v['website']).replace(chr(92) + ',', ',')}")
    for m in methods:
        _write_method(w, m)
    if v.get("notes"):
        w.lines.append(f"NOTE:{escape(v['notes'])}")
    rev = _rev(rec.updated_at)
    if rev:
        w.lines.append(f"REV:{rev}")
    w.lines.append("END:VCARD")
    return "".join(fold(line) for line in w.lines)


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
    pacer = Pacer(progress, cancelled, "Exporting vCards", len(contacts) + len(agencies))
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
