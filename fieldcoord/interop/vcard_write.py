# SPDX-License-Identifier: GPL-3.0-or-later
"""Writing contacts and agencies as vCard 3.0 or 4.0 cards that phones and mail clients accept:
CRLF lines folded at 75 octets, escaped values (interop layer).

A call sign, and any other contact method vCard has no property for, travels as an
X-FIELDCOORD property (read back exactly by fieldcoord) and is restated where other address books
show it: a web address as a labelled URL, anything else as a line of the NOTE ("Call sign: HARBOR
EOC"). The property names the restatement (X-FIELDCOORD-SHOWN-AS=URL or NOTE) so that fieldcoord's
reader drops the copy and a re-import does not take it twice."""
from __future__ import annotations

import re

from .vcard_read import IM_BY_LABEL, LABEL_TYPES, SHOWN_AS, note_line


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
        self.note_lines: list[str] = []     # methods restated in the NOTE

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
    if low in LABEL_TYPES:
        return low, None
    return None, label


def _write_method(w: _CardWriter,  # noqa: C901 - a branch per method kind and vCard version
                  m: dict) -> None:
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
        w.add("X-FIELDCOORD-CALL-SIGN", escape(value), (*params, (SHOWN_AS, "NOTE")), label)
        w.note_lines.append(note_line("call_sign", value, label))
    else:
        low = (label or "").strip().lower()
        words = low.split()
        last = words[-1] if words else ""
        first = words[0] if len(words) > 1 else None
        typ = first if first in LABEL_TYPES else None
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
        elif low in IM_BY_LABEL:
            w.add(IM_BY_LABEL[low], escape(value), params)
        elif re.match(r"https?://\S+$", value, re.I):
            # a labelled web address: fieldcoord's own copy, and a URL others show
            w.add("X-FIELDCOORD-OTHER", escape(value), (*params, (SHOWN_AS, "URL")),
                  label or "other")
            w.add("URL", escape(value).replace("\\,", ","), (), label)
        else:
            w.add("X-FIELDCOORD-OTHER", escape(value), (*params, (SHOWN_AS, "NOTE")),
                  label or "other")
            w.note_lines.append(note_line("other", value, label or "other"))


_PREFIXES = {"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sgt", "lt", "capt", "cpt", "chief",
             "rev", "hon", "sir"}
_SUFFIXES = {"jr", "sr", "ii", "iii", "iv", "phd", "md", "esq", "rn", "emt", "cem"}


# Words that make a contact's name a standing position or a desk rather than a person's name
# ("Duty Officer", "EOC Duty Line", "Marine Unit On-Call Deputy"); compared without case.
_ROLE_WORDS = {
    "duty", "on-call", "oncall", "dispatch", "dispatcher", "officer", "supervisor", "commander",
    "center", "centre", "desk", "hotline", "switchboard", "operations", "ops", "forecaster",
    "administrator", "operator", "coordinator", "liaison", "team", "unit", "office", "station",
    "phone", "charge", "shift", "watchstander", "helpdesk", "reception", "eoc", "ecc", "joc",
    "tmc", "psap", "soc", "noc", "emergency"}
# Lowercase words that join the words of a position ("Officer of the Day", "Administrator on
# Call") and are not name particles ("de", "van" and "la" are).
_JOINING_WORDS = {"of", "the", "on", "for", "at", "and", "in", "to"}


def name_kind(name: str, agency_name: str | None = None, title: str | None = None,
              ics_position: str | None = None) -> str:
    """'person', 'role' (a standing position such as "Officer of the Day") or 'org' (a contact
    named like its agency).

    The store has no field that marks a position (a contact is "a person or a standing
    position"), so it is told from the name: its agency's name, its own title or ICS position,
    a digit ("Medic 12"), a word of a position or a desk, or a lowercase joining word.
    """
    text = " ".join(str(name or "").split())
    if not text:
        return "person"
    low = text.casefold()
    if agency_name and low == " ".join(str(agency_name).split()).casefold():
        return "org"
    if any(low == " ".join(str(x).split()).casefold() for x in (title, ics_position) if x):
        return "role"
    if re.search(r"\d", text):
        return "role"
    words = re.findall(r"[\w'-]+", text)
    if any(w in _JOINING_WORDS for w in words[1:]):
        return "role"
    if any(w.casefold() in _ROLE_WORDS or any(p in _ROLE_WORDS for p in w.casefold().split("-"))
           for w in words):
        return "role"
    return "person"


def name_parts(name: str) -> tuple[str, str, str, str, str]:
    """(family, given, additional, prefix, suffix) of a person's display name: the last word is
    taken as the family name, or what comes before a comma ("Lima, Ana")."""
    if "," in name:
        family, given = [" ".join(x.split()) for x in name.split(",", 1)]
        return family, given, "", "", ""
    words = name.split()
    prefix, suffix = [], []
    while len(words) > 1 and words[0].rstrip(".").lower() in _PREFIXES:
        prefix.append(words.pop(0))
    while len(words) > 1 and words[-1].rstrip(".").lower() in _SUFFIXES:
        suffix.insert(0, words.pop())
    family, given = (words[-1], words[:-1]) if len(words) > 1 else (" ".join(words), [])
    first, extra = (given[0], " ".join(given[1:])) if given else ("", "")
    return family, first, extra, " ".join(prefix), " ".join(suffix)


def _n_value(name: str, kind: str = "person") -> str:
    """N: family;given;additional;prefix;suffix of a display name; all empty for a position or
    an organisation (whose name is not a person's: "Officer of the Day" has no family name)."""
    if kind != "person":
        return ";;;;"
    return ";".join(escape(x) for x in name_parts(name))


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
    v = rec.values
    w.lines.append(f"FN:{escape(v['name'])}")
    kind = name_kind(v["name"], agency and agency.get("name"), v.get("title"),
                     v.get("ics_position"))
    w.lines.append(f"N:{_n_value(v['name'], kind)}")
    if agency:
        w.lines.append(f"ORG:{escape(agency['name'])}")
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
    return _finish(w, rec, methods)


def _finish(w: _CardWriter, rec, methods: list[dict]) -> str:
    """The lines, notes and revision every card ends with; the card's text, folded."""
    for m in methods:
        _write_method(w, m)
    # the record's notes, then the methods restated for address books without their property
    note = "\n\n".join(x for x in (rec.values.get("notes"), "\n".join(w.note_lines)) if x)
    if note:
        w.lines.append(f"NOTE:{escape(note)}")
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
    return _finish(w, rec, methods)
