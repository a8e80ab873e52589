# SPDX-License-Identifier: GPL-3.0-or-later
"""Adding imported contacts, contact methods and agencies without duplicating them (interop layer).

Every contact importer (vCard, CSV) hands its people and organisations to one `Directory`, which
holds lookup tables of the live directory built once per import. A person matches an existing
contact by record id (a vCard UID written by fieldcoord), the same email, the same phone number
in E.164 (when only one contact with a fitting name has it: names that differ in nothing but
case, accents, spacing and initials, and emails that do not differ), or the same name at the
same agency; each match is named in the report (`ImportReport.matches`) with its line; a match is
updated instead of duplicated: new contact methods are added and empty fields filled, and nothing
is ever removed or overwritten. The rows a user has told apart (`no_match`: (source, line) pairs,
as the report names them) are not matched: each is added as a new contact, and the report still
names the contact it would have matched, as kept apart. An organisation matches an agency by
code or name, and a missing one is created with a code derived from its name.

Each card or row is written in its own savepoint: one that fails validation is rolled back alone
and reported with its file and line, while the others import.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ..core import ids
from ..core import kinds as K
from ..core.errors import Cancelled, PermissionDenied, ValidationError
from ..core.text import strip_accents
from ..core.validate import (
    normalise_email,
    normalise_field,
    normalise_method_value,
    normalise_phone,
    normalise_scope,
    parse_scope,
)
from .report import ImportReport, Match

CONTACT_FIELDS = ("title", "ics_position", "languages", "notes")
AGENCY_FIELDS = ("level", "discipline", "jurisdiction", "address", "lat", "lon", "website",
                 "safecom_notes", "notes")
# Words left out of an agency code made from initials.
_STOP = {"of", "the", "and", "for", "de", "la", "le", "du", "des", "der", "und", "inc", "llc",
         "ltd", "co", "corp", "gmbh", "a", "an", "at", "on", "in"}


@dataclass
class MethodIn:
    kind: str
    value: str
    label: str | None = None
    priority: int | None = None
    duty: str | None = None
    verified_on: str | None = None
    verified_by: str | None = None


@dataclass
class ContactIn:
    """A person (or standing position) read from a file, before matching."""
    name: str
    source: str
    line: int | None
    agency: str | None = None          # agency id
    fields: dict = field(default_factory=dict)
    methods: list = field(default_factory=list)
    uid: str | None = None             # a fieldcoord record id found in the file


EXPORT_STOPPED = "export cancelled; no file was written"


class Pacer:
    """Calls progress(label, value, maximum) and checks cancelled() every `every` steps."""

    def __init__(self, progress, cancelled, label: str, maximum: int = 0, every: int = 200,
                 stopped: str = "import cancelled; nothing was imported"):
        self.progress, self.cancelled, self.stopped = progress, cancelled, stopped
        self.label, self.maximum, self.every = label, maximum, every
        self.value = 0

    def step(self, n: int = 1) -> None:
        before = self.value
        self.value += n
        if self.value // self.every != before // self.every or self.value == self.maximum:
            self.check()

    def check(self) -> None:
        if self.cancelled and self.cancelled():
            raise Cancelled(self.stopped)
        if self.progress:
            self.progress(self.label, self.value, max(self.maximum, self.value))


def name_key(text: str | None) -> str:
    """A name as compared for matching: no accents, case or punctuation."""
    t = strip_accents(str(text or "")).casefold().replace("&", " and ")
    return " ".join(re.findall(r"\w+", t))


def _name_readings(text: str) -> list[list[list[str]]]:
    """A name's words as written and, with one comma, also read as 'First Last' ('Núñez,
    José' is 'José Núñez')."""
    text = str(text or "")
    out = [_name_words(text)]
    if text.count(",") == 1:
        last, first = text.split(",")
        out.append(_name_words(f"{first} {last}"))
    return out


def _name_words(text: str) -> list[list[str]]:
    """A name's words for matching, each as its hyphenated parts, without accents, case or
    other punctuation."""
    t = strip_accents(text).casefold()
    words = []
    for w in re.split(r"[^\w-]+", t):
        parts = [x for x in w.replace("_", "-").split("-") if x]
        if parts:
            words.append(parts)
    return words


def _words_fit(a: list[list[str]], b: list[list[str]]) -> bool:
    """Word by word, in order: the same word, an initial for a word it begins, or a
    double-barrelled word for one of its parts; the longer name may have initials more."""
    if len(a) < len(b):
        a, b = b, a

    def fit(u: list[str], t: list[str]) -> bool:
        wu, wt = "".join(u), "".join(t)
        return wu == wt or (len(wt) == 1 and wu.startswith(wt)) or \
            (len(wu) == 1 and wt.startswith(wu)) or (len(t) == 1 and wt in u) or \
            (len(u) == 1 and wu in t)

    def walk(i: int, j: int) -> bool:
        if j == len(b):
            return all(len("".join(w)) == 1 for w in a[i:])
        if i == len(a):
            return False
        if fit(a[i], b[j]) and walk(i + 1, j + 1):
            return True
        return len(a) > len(b) and len("".join(a[i])) == 1 and walk(i + 1, j)
    return walk(0, 0)


def names_compatible(a: str, b: str) -> bool:
    """Whether two names may be the same person: they differ only in case, accents, spacing,
    'Last, First' order and initials ('J. Nunez' and 'José Núñez', 'John Q. Smith' and 'John
    Smith'); a double-barrelled surname fits one of its parts. Words that differ in anything
    else, digits included ('First0' and 'First10000'), are different people. A name that is
    only a number or an address (a card without a name) fits any."""
    if "@" in a or "@" in b or not re.search(r"[^\W\d_]", a) or \
            not re.search(r"[^\W\d_]", b):
        return True
    for wa in _name_readings(a):
        for wb in _name_readings(b):
            if "".join("".join(w) for w in wa) == "".join("".join(w) for w in wb):
                return True                           # only spacing, case or accents
            if _words_fit(wa, wb):
                return True
    return False


def derive_code(name: str, taken) -> str:
    """A valid agency code made from a name's initials ('Metro Police Department' -> MPD),
    not in `taken` (a suffix -2, -3 ... is added when it is)."""
    t = strip_accents(name).encode("ascii", "ignore").decode()
    words = re.findall(r"[A-Za-z0-9]+", t)
    sig = [w for w in words if w.lower() not in _STOP] or words
    if len(sig) >= 2:
        base = "".join(w if w.isdigit() and len(w) <= 3 else w[0] for w in sig)
    else:
        base = sig[0] if sig else "AG"
    base = base.upper()[:10]
    if len(base) < 2:
        base = (base + "AG")[:2] if base else "AG"
    code, n = base, 2
    while code in taken:
        suffix = f"-{n}"
        code = base[:12 - len(suffix)] + suffix
        n += 1
    return code


def method_family(kind: str) -> str:
    """Kinds that hold the same number alike: a number known as a phone is not added again
    as a mobile (a fax line is a line of its own)."""
    return "phone" if kind in K.PHONE_KINDS and kind != "fax" else kind


def prepare_method(m: MethodIn, region: str) -> MethodIn | None:
    """The method with its value in stored form. A phone or email that does not parse is kept
    as kind 'other' labelled with what it was ('work phone'), so no number is lost."""
    value = str(m.value or "").strip()
    if m.kind != "other":
        value = " ".join(value.split())
    if not value:
        return None
    kind = K.KINDS["method"]
    kind_name = m.kind
    if kind_name not in K.METHOD_KINDS:
        try:
            kind_name = normalise_field(kind, kind.field_map["kind"], m.kind)
        except ValidationError:
            kind_name = "other"
    label = (m.label or "").strip() or None
    try:
        if kind_name in K.PHONE_KINDS:
            value = normalise_phone(value, region)
        elif kind_name == "email":
            value = normalise_email(value)
        else:
            value = normalise_method_value(kind_name, value, region)
    except (ValueError, ValidationError):
        what = kind_name.replace("_", " ")
        label = f"{label} {what}" if label and what not in label else (label or what)
        kind_name = "other"
    duty = m.duty
    if duty and duty not in K.DUTY_WINDOWS:
        try:
            duty = normalise_field(kind, kind.field_map["duty"], duty)
        except ValidationError:
            duty = None
    priority = m.priority if isinstance(m.priority, int) and m.priority >= 1 else None
    verified_on = m.verified_on
    if verified_on:
        try:
            verified_on = normalise_field(kind, kind.field_map["verified_on"], verified_on)
        except ValidationError:
            verified_on = None
    return MethodIn(kind_name, value[:K_MAX], label and label[:200], priority, duty,
                    verified_on, (m.verified_by or "").strip()[:200] or None)


K_MAX = 2000


def method_key(kind: str, value: str) -> tuple[str, str]:
    fam = method_family(kind)
    return fam, value if fam in ("phone", "email") else value.casefold()


class Directory:
    """Lookup tables of the live directory for one import, and the writes that keep them true.

    Built once (a few queries), then every match is a dictionary lookup, whatever the file's size.
    """

    def __init__(self, store, report: ImportReport, scope: str | None = None,
                 no_match=()):
        self.store = store
        self.report = report
        # (source, line) of the cards or rows to add as new contacts even when they match
        self.no_match: set[tuple[str, int]] = {(str(s), int(n)) for s, n in no_match}
        self.kept_apart: set[tuple[str, int]] = set()      # those that did match one
        self.scope = None
        if scope:
            # checked once here rather than refused card by card
            self.scope = normalise_scope(scope)
            for code in parse_scope(self.scope)[1]:
                if code != store.home and store.agency_id(code) is None:
                    raise ValidationError(f"scope: no agency with code '{code}' in the "
                                          "directory")
        self.region = store.region
        self._pending_methods: list = []
        self._pending_agency = None
        conn = store.conn
        # agencies
        self.agencies: dict[str, dict] = {}
        self.agency_by_name: dict[str, str] = {}
        self.codes_taken: set[str] = set()
        cols = ", ".join(f'"{c}"' for c in ("id", "name", "code", *AGENCY_FIELDS, "_cl"))
        for row in conn.execute(f"SELECT {cols} FROM agency"):
            rid, name, code = row[0], row[1], row[2]
            self.codes_taken.add(code)
            if row[-1] % 2 == 1:
                self.agencies[rid] = dict(zip(("id", "name", "code", *AGENCY_FIELDS), row[:-1]))
                self.agency_by_name.setdefault(name_key(name), rid)
        # contacts
        self.contacts: dict[str, dict] = {}
        self.by_name: dict[tuple, str] = {}
        cols = ", ".join(f'"{c}"' for c in ("id", "name", "agency", *CONTACT_FIELDS, "owner",
                                              "scope"))
        for row in conn.execute(f"SELECT {cols} FROM contact WHERE _cl % 2 = 1"):
            rec = dict(zip(("id", "name", "agency", *CONTACT_FIELDS, "owner", "scope"), row))
            self.contacts[rec["id"]] = rec
            self.by_name.setdefault((name_key(rec["name"]), rec["agency"]), rec["id"])
        # contact methods: keys per owner record, and emails/phones to contacts
        self.keys: dict[str, set] = {}
        self.by_email: dict[str, str] = {}
        self.by_phone: dict[str, set] = {}
        for contact, agency, kind, value in conn.execute(
                "SELECT contact, agency, kind, value FROM contact_method WHERE _cl % 2 = 1"):
            holder = contact or agency
            if not holder:
                continue
            self.keys.setdefault(holder, set()).add(method_key(kind, value))
            if contact and contact in self.contacts:
                self._index_contact_method(contact, kind, value)

    # ------------------------------------------------------------------ indexes
    def _index_contact_method(self, contact: str, kind: str, value: str) -> None:
        if kind == "email":
            self.by_email.setdefault(value.casefold(), contact)
        elif kind in K.PHONE_KINDS and value.startswith("+"):
            self.by_phone.setdefault(value, set()).add(contact)

    def _match(self, c: ContactIn, methods: list[MethodIn]) -> tuple[str | None, str]:
        """The contact a card or row is, and how it was told (for the report)."""
        if c.uid and c.uid in self.contacts:
            return c.uid, "record id"
        emails = {m.value.casefold() for m in methods if m.kind == "email"}
        for m in methods:
            if m.kind == "email":
                got = self.by_email.get(m.value.casefold())
                if got:
                    return got, f"email {m.value}"
        for m in methods:
            if m.kind in K.PHONE_KINDS and m.value.startswith("+"):
                # a line is often shared (a station's phone, a duty mobile): the holder whose
                # name fits, if only one does, and never one whose emails differ
                got = [rid for rid in self.by_phone.get(m.value, ())
                       if names_compatible(c.name, self.contacts[rid]["name"])
                       and not (emails and self._emails(rid)
                                and not emails & self._emails(rid))]
                if len(got) == 1:
                    return got[0], f"{m.kind.replace('_', ' ')} {m.value}"
        rid = self.by_name.get((name_key(c.name), c.agency))
        return rid, "name" + (" at the same agency" if c.agency else "")

    def _emails(self, rid: str) -> set[str]:
        return {value.casefold() for fam, value in self.keys.get(rid, ()) if fam == "email"}

    # ------------------------------------------------------------------ agencies
    def find_agency(self, name: str | None = None, code: str | None = None) -> str | None:
        if code:
            rid = ids.agency_id(code)
            if rid in self.agencies:
                return rid
        if name:
            got = self.agency_by_name.get(name_key(name))
            if got:
                return got
            # an ORG written as an agency code (MPD)
            token = name.strip().upper()
            if re.fullmatch(r"[A-Z0-9][A-Z0-9-]{1,11}", token):
                rid = ids.agency_id(token)
                if rid in self.agencies:
                    return rid
        return None

    def agency_for(self, name: str, source: str, line: int | None) -> str | None:
        """The id of the agency called `name`, created (with a derived code) when missing."""
        name = " ".join(str(name or "").split())
        if not name:
            return None
        rid = self.find_agency(name)
        if rid:
            return rid
        rid, _ = self.upsert_agency({"name": name[:500]}, source, line)
        return rid

    def upsert_agency(self, values: dict, source: str, line: int | None,
                      methods: list[MethodIn] = (), append_notes: bool = False,
                      ) -> tuple[str | None, str]:
        """Add an agency or fill the empty fields of the one with the same code (or name).

        Returns (id, 'added'|'updated'|'unchanged'), or (None, 'skipped') after reporting why.
        `append_notes` adds note lines the existing notes do not already hold.
        """
        values = {k: v for k, v in values.items() if v not in (None, "")}
        prepared = [p for p in (prepare_method(m, self.region) for m in methods) if p]
        code = values.get("code")
        self._rollback_methods()
        try:
            if code:
                code = normalise_field(K.KINDS["agency"], K.KINDS["agency"].field_map["code"],
                                       code)
                values["code"] = code
            rid = self.find_agency(values.get("name"), code) if code is None else \
                (ids.agency_id(code) if ids.agency_id(code) in self.agencies else None)
            with self.store.transaction():
                if rid is None:
                    status = self._add_agency(values, prepared)
                    rid = ids.agency_id(values["code"])
                else:
                    status = self._fill_agency(rid, values, prepared, append_notes)
        except ValidationError as e:
            self._rollback_methods()
            self.report.skip(source, line, f"{values.get('name') or code}: {e}")
            return None, "skipped"
        self._commit_agency(rid)
        count = {"added": self.report.add, "updated": self.report.update,
                 "unchanged": self.report.same}[status]
        count("agency")
        return rid, status

    def _add_agency(self, values: dict, methods: list[MethodIn]) -> str:
        if not values.get("name"):
            raise ValidationError("agency name: is required")
        if not values.get("code"):
            values["code"] = derive_code(values["name"], self.codes_taken)
        elif values["code"] in self.codes_taken:
            raise ValidationError(f"agency code {values['code']} belongs to a deleted agency; "
                                  "restore it first")
        rid = self.store.add("agency", values)
        self._pending_agency = (rid, values)
        for m in methods:
            self._add_method(rid, None, m)
        return "added"

    def _fill_agency(self, rid: str, values: dict, methods: list[MethodIn],
                     append_notes: bool) -> str:
        cur = self.agencies[rid]
        kind = K.KINDS["agency"]
        changes = {}
        for name in AGENCY_FIELDS:
            new = values.get(name)
            if new in (None, ""):
                continue
            old = cur.get(name)
            if old in (None, ""):
                changes[name] = new
            elif name == "notes" and append_notes:
                extra = [ln for ln in str(new).splitlines() if ln.strip() and ln not in old]
                if extra:
                    changes[name] = old.rstrip("\n") + "\n" + "\n".join(extra)
        # values that normalise to what is stored already are not changes
        for name in list(changes):
            fld = kind.field_map[name]
            if fld.type != K.REF and normalise_field(kind, fld, changes[name]) == cur.get(name):
                del changes[name]
        if changes:
            self.store.edit(rid, changes)
        self._pending_agency = (rid, {**cur, **changes})
        added = sum(self._add_method(rid, None, m) for m in methods)
        return "updated" if changes or added else "unchanged"

    def _commit_agency(self, rid: str) -> None:
        pending = getattr(self, "_pending_agency", None)
        if pending and pending[0] == rid:
            row = self.store.conn.execute(
                "SELECT " + ", ".join(f'"{c}"' for c in ("id", "name", "code", *AGENCY_FIELDS))
                + " FROM agency WHERE id = ?", (rid,)).fetchone()
            rec = dict(zip(("id", "name", "code", *AGENCY_FIELDS), row))
            self.agencies[rid] = rec
            self.codes_taken.add(rec["code"])
            self.agency_by_name.setdefault(name_key(rec["name"]), rid)
        self._pending_agency = None
        self._commit_methods()

    # ------------------------------------------------------------------ methods
    def _add_method(self, agency: str | None, contact: str | None, m: MethodIn) -> int:
        holder = contact or agency
        key = method_key(m.kind, m.value)
        # against what the record had: by family; within one card or row: by kind and value
        if key in self.keys.get(holder, ()) or any(
                h == holder and (kind, value) == (m.kind, m.value)
                for h, _, (_, kind, value) in self._pending_methods):
            return 0
        values = {"kind": m.kind, "value": m.value}
        if contact:
            values["contact"] = contact
        else:
            values["agency"] = agency
        for name in ("label", "priority", "duty", "verified_on", "verified_by"):
            if getattr(m, name):
                values[name] = getattr(m, name)
        self.store.add("method", values)
        self._pending_methods.append((holder, key, (contact, m.kind, m.value)))
        return 1

    def _commit_methods(self) -> None:
        for holder, key, (contact, kind, value) in self._pending_methods:
            self.keys.setdefault(holder, set()).add(key)
            self.report.add("method")
            if contact:
                self._index_contact_method(contact, kind, value)
        self._pending_methods = []

    def _rollback_methods(self) -> None:
        self._pending_methods = []
        self._pending_agency = None

    # ------------------------------------------------------------------ contacts
    def upsert_contact(self, c: ContactIn) -> str:
        """Add the contact or update its match. Returns 'added', 'updated', 'unchanged' or
        'skipped' (reported with the reason)."""
        methods, seen = [], set()
        for m in c.methods:
            p = prepare_method(m, self.region)
            if p and (p.kind, p.value) not in seen:
                seen.add((p.kind, p.value))
                methods.append(p)
        name = " ".join(str(c.name or "").split())[:500]
        if not name:
            self.report.skip(c.source, c.line, "no name, organisation, email or phone number")
            return "skipped"
        c.name = name
        fields = {k: v.strip() if isinstance(v, str) else v for k, v in c.fields.items()
                  if k in CONTACT_FIELDS and v not in (None, "") and str(v).strip()}
        self._pending_methods = []
        apart = (str(c.source), c.line) in self.no_match
        try:
            with self.store.transaction():
                rid, how = self._match(c, methods)
                matched = rid and (rid, self.contacts[rid]["name"])
                if rid is None or apart:
                    status, rid = "added", self._add_contact(c, fields, methods)
                else:
                    status = self._update_contact(rid, c, fields, methods)
        except PermissionDenied as e:
            self._rollback_methods()
            self.report.skip(c.source, c.line, f"{name}: {e}")
            return "skipped"
        except ValidationError as e:
            self._rollback_methods()
            self.report.skip(c.source, c.line, f"{name}: {e}")
            return "skipped"
        except BaseException:
            self._rollback_methods()
            raise
        if matched:
            if apart:
                self.kept_apart.add((str(c.source), c.line))
            self.report.matches.append(Match(str(c.source), c.line, matched[0], matched[1], how,
                                             "kept apart" if apart else status))
        if status == "added":
            self.report.add("contact")
        elif status == "updated":
            self.report.update("contact")
        else:
            self.report.same("contact")
        self._commit_contact(rid)
        self._commit_methods()
        return status

    def _add_contact(self, c: ContactIn, fields: dict, methods: list[MethodIn]) -> str:
        values = {"name": c.name, **fields}
        if c.agency:
            values["agency"] = c.agency
        if self.scope:
            values["scope"] = self.scope
        rid = self.store.add("contact", values)
        for m in methods:
            self._add_method(None, rid, m)
        return rid

    def _update_contact(self, rid: str, c: ContactIn, fields: dict,
                        methods: list[MethodIn]) -> str:
        cur = self.contacts[rid]
        changes = {k: v for k, v in fields.items() if not cur.get(k)}
        if c.agency and not cur.get("agency"):
            changes["agency"] = c.agency
        have = self.keys.get(rid, set())
        new_methods = [m for m in methods if method_key(m.kind, m.value) not in have]
        if not changes and not new_methods:
            return "unchanged"
        if not self.store.may_change(cur["owner"], cur["scope"], "contact"):
            raise PermissionDenied(f"matches a contact maintained by {cur['owner']}, which this "
                                   "agency may not change; left as it is")
        if changes:
            self.store.edit(rid, changes)
        for m in new_methods:
            self._add_method(None, rid, m)
        return "updated"

    def _commit_contact(self, rid: str) -> None:
        row = self.store.conn.execute(
            "SELECT " + ", ".join(f'"{c}"' for c in ("id", "name", "agency", *CONTACT_FIELDS,
                                                      "owner", "scope"))
            + " FROM contact WHERE id = ?", (rid,)).fetchone()
        rec = dict(zip(("id", "name", "agency", *CONTACT_FIELDS, "owner", "scope"), row))
        self.contacts[rid] = rec
        self.by_name.setdefault((name_key(rec["name"]), rec["agency"]), rid)


# ------------------------------------------------------------------ rows told apart
def rows_kept_apart(value, paths) -> set[tuple[str, int]]:
    """options["no_match"] as (file, line) pairs: each entry a line number (when one file is
    imported), "FILE:LINE", or a (file, line) pair; the file as given to the import or by its
    name."""
    if value in (None, "", (), []):
        return set()
    items = [value] if isinstance(value, (str, int)) else list(value)
    out = set()
    for item in items:
        if isinstance(item, (tuple, list)) and len(item) == 2:
            where, line = item
        elif isinstance(item, int):
            where, line = None, item
        else:
            where, _, line = str(item).strip().rpartition(":")
        try:
            line = int(str(line).strip())
        except ValueError:
            line = 0
        if line < 1 or isinstance(item, bool):
            raise ValidationError(f"'{item}' is not a row to import as a new contact: give its "
                                  "line number, or FILE:LINE")
        if not where:
            if len(paths) != 1:
                raise ValidationError(f"line {line}: say which file it is in (FILE:{line}); "
                                      f"{len(paths)} files are imported")
            out.add((str(paths[0]), line))
        else:
            out.add((_which_file(str(where), paths), line))
    return out


def _which_file(where: str, paths: list[Path]) -> str:
    names = [str(p) for p in paths]
    if str(Path(where)) in names:
        return str(Path(where))
    try:
        target = Path(where).resolve()
        same = [str(p) for p in paths if p.resolve() == target]
    except OSError:
        same = []
    if not same:
        same = [str(p) for p in paths if p.name == Path(where).name]
    if len(same) == 1:
        return same[0]
    listed = ", ".join(names)
    raise ValidationError(f"'{where}' is not one of the files imported ({listed})" if not same
                          else f"'{where}' could be any of {', '.join(same)}: give its path")
