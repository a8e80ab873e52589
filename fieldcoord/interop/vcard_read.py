# SPDX-License-Identifier: GPL-3.0-or-later
"""Reading vCard files as clients write them: 2.1, 3.0 and 4.0 content lines (folding,
quoted-printable in any CHARSET, grouped properties), jCard and xCard (interop layer).

The result is cards of properties with their parameters and line numbers; what they mean for
the directory is decided in fieldcoord.interop.vcard.
"""
from __future__ import annotations

import json
import quopri
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from .textfile import decode as decode_text

_NAME_RE = re.compile(r"^(?:([A-Za-z0-9_-]+)\.)?([A-Za-z0-9_-]+(?:/[A-Za-z0-9_-]+)*)")
_PROP_START = re.compile(r"^(?:[A-Za-z0-9_-]+\.)?[A-Za-z0-9_-]+(?:/[A-Za-z0-9_-]+)*\s*[;:]")
MESSAGING_RE = re.compile(r"X-MESSAGING/([A-Z0-9_]+?)(?:-ALL)?$")
_BARE_NAMES = {"FN", "N", "ORG", "TITLE", "NOTE", "BEGIN", "END", "VERSION", "NICKNAME",
               "ROLE", "LABEL", "URL", "EMAIL", "TEL", "ADR", "UID", "PHOTO", "BDAY"}
_ENCODINGS = {"QUOTED-PRINTABLE", "BASE64", "B", "8BIT", "7BIT"}
BINARY = {"PHOTO", "LOGO", "SOUND", "KEY"}
LABEL_TYPES = ("work", "home", "main", "other", "car", "school")
IM_PROPS = {"X-AIM": "AIM", "X-JABBER": "Jabber", "X-SKYPE": "Skype",
             "X-SKYPE-USERNAME": "Skype", "X-GTALK": "Google Talk", "X-GOOGLE-TALK": "Google Talk",
             "X-MSN": "MSN", "X-YAHOO": "Yahoo", "X-ICQ": "ICQ", "X-QQ": "QQ",
             "X-MS-IMADDRESS": "IM", "X-GADUGADU": "Gadu-Gadu", "X-TWITTER": "Twitter"}
IM_BY_LABEL = {v.lower(): k for k, v in reversed(list(IM_PROPS.items()))}
_SINGLE_BYTE = {"cp1252", "latin-1", "iso8859-1", "cp1251", "cp1250", "iso8859-15"}
_CHARSET_PARAM = re.compile(rb";[ \t]*CHARSET[ \t]*=", re.IGNORECASE)
# On fieldcoord's X-FIELDCOORD-CALL-SIGN and X-FIELDCOORD-OTHER: where the card restates the
# value for other address books (NOTE: a line of the note, URL: a URL property).
SHOWN_AS = "X-FIELDCOORD-SHOWN-AS"
_RESTATED = ("X-FIELDCOORD-CALL-SIGN", "X-FIELDCOORD-OTHER")


def note_line(kind: str, value: str, label: str | None) -> str:
    """The NOTE line restating a call sign or another contact method: "Call sign: HARBOR EOC",
    "Call sign (tactical): MEDIC 1", "Radio channel: TAC 2"."""
    if kind == "call_sign":
        what = f"Call sign ({label})" if label else "Call sign"
    else:
        what = " ".join(str(label or "other").split())
        what = what[:1].upper() + what[1:]
    return f"{what}: {' '.join(str(value).split())}"


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
    # True when the values hold one character per byte of the file (read as latin-1), so that
    # each property is decoded by its own CHARSET, the others by `encoding`
    raw: bool = False

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


def read_cards(text: str, source: str, encoding: str = "utf-8", byte_text: bool = False):
    """Yield each Card of a vCard text, or a CardError for a card that cannot be read.
    byte_text: the text is the file's bytes read as latin-1 and `encoding` is the file's own."""
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
            card, broken, nested = Card(source, line, encoding=encoding, raw=byte_text), None, 0
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
                    yield drop_restated(card)
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
    if card.raw:
        # the property's own bytes: its CHARSET first (an unknown or wrong one: the file's
        # encoding, as for a property without CHARSET)
        data = value.encode("latin-1", errors="replace")
        if "QUOTED-PRINTABLE" in enc:
            data = quopri.decodestring(data)
            tries = (charset, "utf-8", card.encoding, "cp1252")
        else:
            tries = (charset, card.encoding)
        for cs in tries:
            if not cs:
                continue
            try:
                return data.decode(cs)
            except (UnicodeDecodeError, LookupError):
                continue
        return data.decode(card.encoding, errors="replace")
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


def drop_restated(card: Card) -> Card:
    """The card without the copies fieldcoord wrote for other address books: the URL and the
    NOTE lines that restate its X-FIELDCOORD-CALL-SIGN and X-FIELDCOORD-OTHER properties (see
    vcard_write), so that a re-import takes each call sign or method once and keeps the notes
    as they were. A note edited elsewhere so that it no longer ends with those lines is kept
    whole."""
    if not any(SHOWN_AS in p.params for p in card.props):
        return card
    labels = {p.group: text_of(p, card) for p in card.props if p.name == "X-ABLABEL"
              and p.group}
    lines, urls = [], []
    for p in card.props:
        shown = {v.upper() for v in p.param(SHOWN_AS)}
        if p.name not in _RESTATED or not shown:
            continue
        value = text_of(p, card)
        label = labels.get(p.group) if p.group else None
        if "NOTE" in shown:
            kind = "call_sign" if p.name == "X-FIELDCOORD-CALL-SIGN" else "other"
            lines.append(note_line(kind, value, label))
        if "URL" in shown:
            urls.append(value)
    drop: set[int] = set()
    for url in urls:
        for i, p in enumerate(card.props):
            if i not in drop and p.name == "URL" and text_of(p, card) == url:
                drop.add(i)
                if p.group:         # its label goes with it
                    drop |= {j for j, q in enumerate(card.props)
                             if q.name == "X-ABLABEL" and q.group == p.group}
                break
    if lines:
        block = "\n".join(lines)
        for i, p in enumerate(card.props):
            if p.name != "NOTE":
                continue
            text = text_of(p, card)
            if text == block:
                drop.add(i)
            elif text.endswith("\n\n" + block):
                p.parts = [text[:-len(block) - 2].rstrip()]
            else:
                continue
            break
    if drop:
        card.props = [p for i, p in enumerate(card.props) if i not in drop]
    return card


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

        # card and n bound now: add is called only within this iteration
        def add(prop_el, group=None, card=card, n=n):
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
    if not used.startswith(("utf-8", "utf-16", "utf-32")) and _CHARSET_PARAM.search(data):
        # 8-bit text whose properties name their charsets (vCard 2.1: a Greek card in
        # Windows-1253 next to a Hebrew one in Windows-1255): keep every byte as it is, each
        # value is decoded with its own CHARSET (the guess for the whole file may be wrong)
        return list(read_cards(data.decode("latin-1"), str(path), used, byte_text=True))
    return list(read_cards(text, str(path), used))
