# SPDX-License-Identifier: GPL-3.0-or-later
"""Full-text search: one document per searchable record, kept current by the write path
(store layer).

Documents are rebuilt for the records a transaction touched, once, when it commits. A contact's
document holds its agency and its contact methods, so a contact is found by any of them.
"""
from __future__ import annotations

import json
import re
import sqlite3
import unicodedata
from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple, cast

from ..core import kinds as K
from ..core.format import display_number, display_phone
from . import byref
from .changelog import OWN_POSITION, TAKE_RECENT
from .db import connect
from .records import RowDict

PHONE_QUERY_RE = re.compile(r"^[\d\s\-.()+/]+$")
MIN_DIGITS = 3          # a query of fewer digits is searched as text
MIN_SUFFIX = 4          # shortest indexed digit suffix
WEIGHTS = (10.0, 2.0)        # bm25 weights: title, body
DIGITS_SCORE = -20.0         # a phone-number match ranks with a strong title match
# Rank boost per kind: a person or agency before the single line that also matched.
SHORT_QUERY = 2            # letters up to which a query lists titles beginning with it
TITLE_START = 1000.0       # their score: above any full-text match
CODE_START = 10_000.0      # an agency whose code begins with what was typed: above all
KIND_BOOST = {k.name: k.search.boost for k in K.KINDS.values() if k.search is not None}
# A document's number carries its kind and its record (schema version 21): the kind's code
# times 2**32, plus the record's row number in its table. Search ranks the matches by kind, and
# keeps to one kind, inside the index query, reading only the documents of the page, and finds
# the page's records by their row numbers: search_doc keeps no kind, id or subtitle. People
# (code 0) keep the small numbers: a full-text index stores each number's distance from the
# previous one, and low bits holding the kind made those distances, and the index, larger. A
# kind's code never changes once released; a new searchable kind takes the next free one. A
# record's row number never changes (records are marked deleted, never deleted); a copy that
# may renumber rows rebuilds the documents (sync/snapshot.py).
KIND_CODES = ("contact", "agency", "method", "resource", "facility", "request", "agreement",
              "operation", "plan", "channel", "event", "action", "log")
KIND_SHIFT = 32
ROW_MASK = (1 << KIND_SHIFT) - 1
CODE_OF = {k: i for i, k in enumerate(KIND_CODES)}
# the code of `kind` (a column) in SQL (schema version 18's renumbering)
CODE_SQL = "CASE kind " + " ".join(f"WHEN '{k}' THEN {i}" for k, i in CODE_OF.items()) + " END"
# documents with their numbers (docid, title, body, digits)
INSERT_DOC = "INSERT INTO {table} (docid, title, body, digits) VALUES (?, ?, ?, ?)"


_TOKEN_RE = re.compile(r"\w+", re.UNICODE)

# agency id -> (name, code) of the live agency, ("", "") for none (None: no agency)
AgencyWords = dict[str | None, tuple[str, str]]
# a contact method as a document reads it: (contact or agency id, kind, value, label)
Line = tuple[str, str, str | None, str | None]
# {"contact" or "agency": {id: its lines}}
Lines = Mapping[str, Mapping[str, Sequence[Line]]]
# (title, body, digit suffixes) of a record's search document
Doc = tuple[str | None, str, list[str]]
# ((kind, id), the record's row, or None to read it)
DocTarget = tuple[tuple[str, str], RowDict | None]


@dataclass(frozen=True)
class Hit:
    kind: str
    id: str
    title: str
    subtitle: str
    score: float

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "id": self.id, "title": self.title,
                "subtitle": self.subtitle, "score": round(self.score, 4)}


def _live_row(conn: sqlite3.Connection, table: str, rid: str | None) -> sqlite3.Row | None:
    if not rid:
        return None
    cur = conn.execute(f'SELECT * FROM "{table}" WHERE id = ? AND _cl % 2 = 1', (rid,))
    cur.row_factory = sqlite3.Row
    row: sqlite3.Row | None = cur.fetchone()
    return row


_NON_DIGIT = re.compile(r"\D")


def phone_digits(value: str) -> str:
    """The digits of a phone number as a document keeps them (its extension left out), or ""
    for fewer than a searched suffix has."""
    d = _NON_DIGIT.sub("", value.split(";ext=")[0])
    return d if len(d) >= MIN_SUFFIX else ""


def indexed_digits(digits: str) -> str:
    """What the digits index holds of a document's digits (its phones' digits, space-separated,
    as search_doc keeps them): every trailing run of each, so that the last digits typed find
    it (schema version 24: search_doc kept every run before, about 70 bytes a phone)."""
    return " ".join(d[i:] for d in digits.split() for i in range(len(d) - MIN_SUFFIX + 1))


def compact_digits(runs: str) -> str:
    """A document's digits as versions before 24 kept them (every trailing run of each phone,
    longest first) as search_doc keeps them now: each phone's digits once."""
    out: list[str] = []
    for run in runs.split():
        if not out or len(run) >= len(out[-1]) or not out[-1].endswith(run):
            out.append(run)
    return " ".join(out)


def doc_number(kind: str, rowid: int | None) -> int | None:
    """The number of the document of the record of `kind` in row `rowid` (None: a row number
    that does not fit, which no table reaches, has no document)."""
    if rowid is None or not 0 < rowid <= ROW_MASK:
        return None
    return (CODE_OF[kind] << KIND_SHIFT) | rowid


def kind_of(number: int) -> str | None:
    """The kind a document number names, or None for a number no kind has (a damaged file, or
    a snapshot from a hub that lied: such a document is never shown)."""
    code = number >> KIND_SHIFT
    return KIND_CODES[code] if 0 <= code < len(KIND_CODES) else None


def _docid_sql(kind: str, alias: str) -> str:
    """doc_number() in SQL, of the row `alias` of `kind`'s table."""
    return f"(({CODE_OF[kind]} << {KIND_SHIFT}) | {alias}.rowid)"


# more records of one kind than this: doc_numbers reads the whole table
SCAN_NUMBERS = 5000


def doc_numbers(conn: sqlite3.Connection, keys: Sequence[tuple[str, str]]
           ) -> dict[tuple[str, str], int]:
    """{(kind, id): document number} of these records, live or not (read a table at a time);
    a record without a row has none."""
    wanted: dict[str, list[str]] = {}
    for kind, rid in keys:
        wanted.setdefault(kind, []).append(rid)
    out: dict[tuple[str, str], int] = {}
    for kind, rids in wanted.items():
        table = K.KINDS[kind].table
        if len(rids) > SCAN_NUMBERS:
            # (a large load: reading the table through is cheaper than a lookup for each)
            want = set(rids)
            for rid, rowid in conn.execute(f'SELECT id, rowid AS search_row FROM "{table}"'):
                if rid in want and (n := doc_number(kind, rowid)) is not None:
                    out[(kind, rid)] = n
            continue
        for i in range(0, len(rids), 500):
            chunk = rids[i:i + 500]
            for rid, rowid in conn.execute(f'SELECT id, rowid AS search_row FROM "{table}" '
                                           f'WHERE id IN ({",".join("?" * len(chunk))})', chunk):
                n = doc_number(kind, rowid)
                if n is not None:
                    out[(kind, rid)] = n
    return out


def _is_phone(kind: str | None) -> bool:
    return kind in K.PHONE_KINDS


def _agency_words(conn: sqlite3.Connection, agency_rid: str | None,
                  cache: AgencyWords | None = None) -> tuple[str, str]:
    if cache is not None and agency_rid in cache:
        return cache[agency_rid]
    a = _live_row(conn, "agency", agency_rid)
    words = (a["name"] or "", a["code"] or "") if a else ("", "")
    if cache is not None:
        cache[agency_rid] = words
    return words


def _words(*parts: object) -> str:
    # the separator has no "_", so the replacing can wait for the joined text
    return " ".join([str(p) for p in parts if p is not None and p != ""]).replace("_", " ")


def _lines_sql(column: str, where: str) -> str:
    return (f'SELECT "{column}", kind, value, label FROM contact_method WHERE {where} '
            "AND _cl % 2 = 1" + (" AND contact IS NULL" if column == "agency" else ""))


def _prefetch_lines(conn: sqlite3.Connection, targets: Sequence[DocTarget]) -> Lines:
    """{column: {rid: [(rid, kind, value, label)]}} for the contacts ("contact") and agencies
    ("agency") among `targets`, read in a few queries instead of one per record."""
    out: dict[str, dict[str, list[Line] | tuple[()]]] = {"contact": {}, "agency": {}}
    for column, held in out.items():
        rids = [rid for (kind, rid), _ in targets if kind == column]
        for i in range(0, len(rids), 500):
            chunk = rids[i:i + 500]
            held.update(dict.fromkeys(chunk, ()))           # none, unless some are found
            sql = _lines_sql(column, f'"{column}" IN ({",".join("?" * len(chunk))})')
            for line in conn.execute(sql, chunk):
                got = held[line[0]]
                if got:
                    got.append(line)
                else:
                    held[line[0]] = [line]
    return out


def _prefetch_rows(conn: sqlite3.Connection, targets: Sequence[DocTarget]
                   ) -> dict[str, RowDict]:
    """{id: row} of the live records among the `targets` given without their row, read a
    table at a time (each with its row number as "search_row")."""
    wanted: dict[str, list[str]] = {}
    for (kind, rid), row in targets:
        if row is None:
            wanted.setdefault(K.KINDS[kind].table, []).append(rid)
    out: dict[str, RowDict] = {}
    for table, rids in wanted.items():
        for i in range(0, len(rids), 500):
            chunk = rids[i:i + 500]
            cur = conn.execute(f'SELECT rowid AS search_row, * FROM "{table}" WHERE id IN '
                               f'({",".join("?" * len(chunk))}) AND _cl % 2 = 1', chunk)
            names = [d[0] for d in cur.description]
            key = names.index("id")
            out.update((values[key], dict(zip(names, values))) for values in cur)
    return out


def _methods_text(conn: sqlite3.Connection, column: str, rid: str, lines: Lines | None = None
                  ) -> tuple[str, list[str]]:
    words: list[str] = []
    digits: list[str] = []
    # prefetched: every contact's and agency's lines, none where it has no key
    rows = lines[column].get(rid, ()) if lines is not None else None
    if rows is None:
        rows = conn.execute(_lines_sql(column, f'"{column}" = ?'), (rid,)).fetchall()
    phone_kinds = K.PHONE_KINDS
    for _, kind, value, label in rows:
        if kind in phone_kinds:
            d = phone_digits(value or "")
            if d:
                digits.append(d)
        else:
            words.append(value or "")
        if label:
            words.append(label)
    return _words(*words), digits


# How each searchable kind's document is made, worked out once from its Search: the body's and
# the subtitle's items as (how, field, part). how: "ref" an agency's words (part: "name",
# "code" or "" for both), "real" a number, "phone" a phone field (searched by its digits),
# "enum" a choice shown as words, "numbers" a tuple of number fields, "" the value itself.
class _Op(NamedTuple):
    how: str
    name: str = ""
    part: str = ""
    numbers: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Plan:
    body: tuple[_Op, ...]
    subtitle: tuple[_Op, ...]
    phones: tuple[str, ...]          # phone fields of the body: their digit suffixes


def _op(kind: K.Kind, item: str | tuple[str, ...]) -> _Op:
    if isinstance(item, tuple):
        return _Op("numbers", numbers=item)
    name, _, part = item.partition(".")
    fld = kind.field_map[name]
    if fld.type == K.REF:
        if fld.ref != "agency":
            raise ValueError(f"search of {kind.name}: only agency references are searched "
                             f"({name})")
        return _Op("ref", name, part)
    return _Op({K.REAL: "real", K.PHONE: "phone", K.ENUM: "enum"}.get(fld.type, ""), name)


_PLANS = {k.name: _Plan(tuple(_op(k, i) for i in k.search.body),
                        tuple(_op(k, i) for i in k.search.subtitle),
                        tuple(i for i in k.search.body
                              if "." not in i and k.field_map[i].type == K.PHONE))
          for k in K.KINDS.values() if k.search is not None}


def build_doc(conn: sqlite3.Connection, kind: str, rid: str, cache: AgencyWords | None = None,
              row: RowDict | None = None, lines: bool = True,
              prefetched: Lines | None = None) -> Doc | None:
    """(title, body, digits) of a live searchable record, or None, as its kind's Search
    declares (core/kinds.py).

    A contact's own methods are part of its document; only lines that belong to an agency
    alone (duty lines, dispatch) are documents of their own. `lines=False` skips looking for
    contact methods (a record just created without any).
    """
    k = K.KINDS[kind]
    spec = k.search
    if spec is None:
        return None
    r = row if row is not None else _live_row(conn, k.table, rid)
    if r is None or (spec.within and r[spec.within]):
        return None
    plan = _PLANS[kind]
    title = _sub(*(r[f] for f in spec.title)) if spec.title else r[k.title_field]
    body: list[object] = []
    for how, name, part, _ in plan.body:
        if how == "ref":
            got = _agency_words(conn, r[name], cache)
            if part == "name":
                body.append(got[0])
            elif part == "code":
                body.append(got[1])
            else:
                body += got
            continue
        value = r[name]
        if how == "real" and value is not None:
            body.append(display_number(value))
        elif not (how == "phone" and value):                # a phone: searched by its digits
            body.append(value)
    # phone fields are found by any trailing run of their digits, as lines are
    digits = [d for name in plan.phones if r[name] and (d := phone_digits(r[name]))]
    if spec.number:
        value = r[spec.number]
        if _is_phone(r["kind"]):
            d = phone_digits(value or "")
            title, digits = display_phone(value), [d] if d else []
        else:
            body.append(value)
    if spec.lines and lines:
        words, line_digits = _methods_text(conn, kind, rid, prefetched)
        body.append(words)
        digits += line_digits
    return title, _words(*body), digits


def subtitle(conn: sqlite3.Connection, kind: str, row: RowDict,
             cache: AgencyWords | None = None) -> str:
    """The line shown under a hit of the record `row` of `kind` (made when a page of hits is
    shown; search_doc does not keep it)."""
    return _sub(*(_shown(conn, op, row, cache) for op in _PLANS[kind].subtitle))


def _shown(conn: sqlite3.Connection, op: _Op, r: RowDict | sqlite3.Row,
           cache: AgencyWords | None) -> str:
    """An item of a subtitle as the user reads it."""
    how, name, part, fields = op
    if how == "numbers":
        numbers = [display_number(r[f]) for f in fields if r[f] is not None]
        return " / ".join(dict.fromkeys(numbers))
    if how == "ref":
        ref = _agency_words(conn, r[name], cache)
        return ref[0] if part == "name" else ref[1] if part == "code" else _at(*ref)
    value = r[name]
    if how == "enum":
        return _label(value)
    if how == "real" and value is not None:
        return display_number(value)
    return str(value) if value is not None else ""


def _label(value: object) -> str:
    return str(value).replace("_", " ") if value else ""


def _at(name: str, code: str) -> str:
    return f"{name} ({code})" if name and code else name or code


def _sub(*parts: object) -> str:
    return " · ".join(str(p) for p in parts if p)


# A transaction touching more documents than this (and a quarter of all) rebuilds the indexes:
# a rebuild costs about a fifth of indexing each document on its own.
BULK_DOCS = 2000


# A transaction touching at most this many documents notes them in search_pending and leaves
# search_doc and the indexes for later (index_pending): FTS5 writes a segment at every commit
# that touches it, which was about a third of a single edit's time and most of its pages, and
# search_doc with its two indexes was three pages more for each record created.
PENDING_TX = 50
# Pending documents are indexed in the write that brings them to this many: a backstop for a
# program writing without pause (the desktop app indexes them after a few idle seconds, a
# search and closing index them first). 1,000 documents take about 40 ms to index, and as long
# to read into a search's temporary index while a sync holds the database.
PENDING_MAX = 1000

# a document as search_doc holds it: title, body, digits
Stored = tuple[str, str, str]


def stays_pending(n_targets: int, deferred: bool) -> bool:
    """Whether a transaction touching `n_targets` documents leaves them for index_pending
    (a small write) instead of writing search_doc and the indexes itself."""
    return not deferred and n_targets <= PENDING_TX


def refresh(conn: sqlite3.Connection, targets: Sequence[DocTarget],
            cache: AgencyWords | None = None, new_ids: Set[str] = frozenset(),
            with_lines: Set[str] = frozenset(), deferred: bool = False,
            self_ord: int | None = None, own_from: Mapping[int, int] | None = None) -> int:
    """Rebuild the documents of these ((kind, id), row or None) pairs; remove those not live;
    returns how many documents it left pending (at most: one noted before counts again).

    `cache` keeps agencies' (name, code) between calls; its owner clears it when they change.
    `new_ids` are records created in this transaction (they have no document yet, and no
    contact methods unless they are in `with_lines`).
    A small transaction notes its new documents in search_pending. Otherwise an index is
    written only where its part of a document changed, and a large batch updates the documents
    alone and then rebuilds both indexes, which is several times faster. With `deferred` the
    indexes are not touched at all: whoever deferred them rebuilds them. Before writing
    search_doc directly, the documents left pending are written (those noted, and with
    `self_ord` those this replica's own recent writes left stale; see stale_local). `own_from`
    gives where this transaction's own entries start in the streams it wrote ({stream:
    position}): the documents those entries touch are among `targets` already (Replica.touch),
    so they are not read back from the log.
    """
    cache = {} if cache is None else cache
    targets = [t for t in targets if t[0][0] in K.SEARCHABLE]
    later = stays_pending(len(targets), deferred)
    bulk = deferred or len(targets) > BULK_DOCS and len(targets) * 4 > conn.execute(
        "SELECT count(*) FROM search_doc").fetchone()[0]
    if not later:
        # search_doc must be current before it is written directly (a rebuild follows a bulk):
        # the documents noted are written first, and those this replica's own earlier writes
        # left stale are rebuilt along with this transaction's
        _write_noted(conn, index=not bulk)
        tails = local_tails(conn, self_ord) if self_ord is not None else []
        if tails:
            have = {key for key, _ in targets}
            earlier = [(sid, mark, min(seq, own_from.get(sid, seq)))
                       for sid, mark, seq in tails] if own_from else tails
            earlier = [t for t in earlier if t[2] > t[1]]
            targets += [(key, None) for key in stale_local(conn, earlier) if key not in have]
            set_marks(conn, {sid: seq for sid, _, seq in tails})
    return _refresh(conn, targets, cache, new_ids, with_lines, later, bulk, deferred)


def _refresh(conn: sqlite3.Connection, targets: Sequence[DocTarget], cache: AgencyWords,
             new_ids: Set[str], with_lines: Set[str], later: bool, bulk: bool,
             deferred: bool) -> int:
    many = len(targets) > 50
    prefetched = _prefetch_lines(conn, targets) if many else None
    rows = _prefetch_rows(conn, targets) if many else None
    docs: list[tuple[str, str, Stored | None]] = []
    numbers: dict[tuple[str, str], int] = {}        # (of the rows read here)
    for (kind, rid), row in targets:
        if row is None and rows is not None:
            row = rows.get(rid)
            if row is None:                 # not live: no document
                docs.append((kind, rid, None))
                continue
            n = doc_number(kind, row["search_row"])
            if n is not None:
                numbers[kind, rid] = n
        built = build_doc(conn, kind, rid, cache, row,
                          lines=not (rid in new_ids and rid not in with_lines),
                          prefetched=prefetched)
        docs.append((kind, rid, None if built is None else (
            built[0] or "", built[1], " ".join(built[2]))))
    if later:
        return sum(_note(conn, kind, rid, doc, rid in new_ids) for kind, rid, doc in docs)
    _write_docs(conn, docs, new_ids, index=not bulk, known=numbers)
    if bulk and not deferred:
        rebuild_indexes(conn)
    return 0


def _stored(conn: sqlite3.Connection, numbers: Sequence[int]) -> dict[int, Stored]:
    """{number: (title, body, digits)} of the documents search_doc holds of these numbers."""
    out: dict[int, Stored] = {}
    for i in range(0, len(numbers), 500):
        chunk = numbers[i:i + 500]
        for n, *doc in conn.execute(
                "SELECT docid, title, body, digits FROM search_doc "
                f"WHERE docid IN ({','.join('?' * len(chunk))})", chunk):
            out[n] = cast(Stored, tuple(doc))
    return out


_DOC_COLUMNS = ("title", "body", "digits")


def _write_docs(conn: sqlite3.Connection, docs: Sequence[tuple[str, str, Stored | None]],
                new_ids: Set[str], index: bool,
                known: Mapping[tuple[str, str], int] | None = None) -> None:
    """Write these (kind, id, document or None for none) over what search_doc holds, and with
    `index` the indexes: only what changed (an unchanged title leaves the title index's page
    alone), each kind of statement run once for all. `new_ids` have no document yet; `known`
    gives the numbers of some of them."""
    numbers = dict(known or {})
    numbers.update(doc_numbers(conn, [(kind, rid) for kind, rid, _ in docs
                                      if (kind, rid) not in numbers]))
    olds = _stored(conn, [numbers[kind, rid] for kind, rid, _ in docs
                          if rid not in new_ids and (kind, rid) in numbers])
    words_out: list[tuple[int, str, str]] = []        # the index entries to take out, and in
    words_in: list[tuple[int, str, str]] = []
    digits_out: list[tuple[int, str]] = []
    digits_in: list[tuple[int, str]] = []
    gone: list[tuple[int]] = []
    added: list[tuple[int, str, str, str]] = []
    updates: dict[tuple[str, ...], list[tuple[object, ...]]] = {}
    for kind, rid, doc in docs:
        n = numbers.get((kind, rid))
        if n is None:                       # no row (or one past the numbers): no document
            continue
        was = olds.get(n)
        if was is None:
            if doc is not None:
                added.append((n, *doc))
            continue
        if doc is None:
            gone.append((n,))
            words_out.append((n, was[0], was[1]))
            if was[2]:
                digits_out.append((n, was[2]))
            continue
        if was == doc:
            continue
        if (doc[0], doc[1]) != (was[0], was[1]):
            words_out.append((n, was[0], was[1]))
            words_in.append((n, doc[0], doc[1]))
        if doc[2] != was[2]:
            if was[2]:
                digits_out.append((n, was[2]))
            if doc[2]:
                digits_in.append((n, doc[2]))
        changed = tuple(i for i in range(3) if doc[i] != was[i])
        updates.setdefault(tuple(_DOC_COLUMNS[i] for i in changed), []).append(
            (*(doc[i] for i in changed), n))
    if index:
        # out of the indexes with the words they were given (external content)
        conn.executemany("INSERT INTO search_fts (search_fts, rowid, title, body) "
                         "VALUES ('delete', ?, ?, ?)", words_out)
        conn.executemany("INSERT INTO search_digits (search_digits, rowid, digits) "
                         "VALUES ('delete', ?, ?)",
                         [(n, indexed_digits(d)) for n, d in digits_out])
    conn.executemany("DELETE FROM search_doc WHERE docid = ?", gone)
    for columns, rows in updates.items():
        conn.executemany(f"UPDATE search_doc SET {', '.join(f'{c} = ?' for c in columns)} "
                         "WHERE docid = ?", rows)
    conn.executemany(INSERT_DOC.format(table="search_doc"), added)
    if not index:
        return
    for n, title, body, digits in added:
        words_in.append((n, title, body))
        if digits:
            digits_in.append((n, digits))
    conn.executemany("INSERT INTO search_fts (rowid, title, body) VALUES (?, ?, ?)", words_in)
    conn.executemany("INSERT INTO search_digits (rowid, digits) VALUES (?, ?)",
                     [(n, indexed_digits(d)) for n, d in digits_in])


# ---------------------------------------------------------------- stale after local writes
# A small write of this replica's own (Store.add, edit, delete...) writes nothing for search:
# its change-log entries say which documents it left stale. search_mark holds, for each of this
# replica's streams, the position up to which the documents are current; index_pending brings
# the documents of the entries after it up to date and moves it. One page and three statements
# fewer per write than noting each new document in search_pending.

# For a kind searched within another (contact methods): the references to the kinds whose search
# documents hold their lines, other than the one it is searched within.
def _holds_lines(kind: str | None) -> bool:
    search = K.KINDS[kind].search if kind else None
    return search is not None and search.lines


LINE_HOLDERS = {k.name: tuple((f.ref, f.name) for f in k.fields if f.type == K.REF
                              and f.name != k.search.within and f.ref and _holds_lines(f.ref))
                for k in K.KINDS.values() if k.search is not None and k.search.within}
# The search documents that show an agency's name and code: (kind, reference field).
RENAME_REFRESHES = K.searched_with("agency")


def line_documents(kind: K.Kind, rid: str, rows: Sequence[Mapping[str, Any]]
                   ) -> list[tuple[tuple[str, str], bool]]:
    """The documents that hold a line (a kind searched within another) as each of `rows` has
    it: ((kind, id), whether it is a record holding the line) pairs. A line is searched within
    the record it is part of (a contact's number), or on its own and within every other record
    whose lines it is (an agency's duty line)."""
    within = cast(K.Search, kind.search).within
    out: list[tuple[tuple[str, str], bool]] = []
    for r in rows:
        holders = LINE_HOLDERS[kind.name]
        if r.get(within):
            holders = ((cast(str, kind.field_map[within].ref), within),)
        else:
            out.append(((kind.name, rid), False))
        out += [((holder, r[column]), True) for holder, column in holders if r.get(column)]
    return out


def renamed_agency(conn: sqlite3.Connection, rid: str) -> list[tuple[str, str]]:
    """(kind, id) of the live records whose documents show the agency `rid`'s name or code:
    those with a document written or noted. (A record with neither is new since, and its
    document is made from what it shows then: the people a new agency's import brings along
    with it are not listed twice.)"""
    return [(kind, cid) for kind, column in RENAME_REFRESHES for (cid,) in conn.execute(
        f'SELECT id FROM "{K.KINDS[kind].table}" r WHERE "{column}" = ? AND _cl % 2 = 1 AND '
        f"(EXISTS (SELECT 1 FROM search_doc d WHERE d.docid = {_docid_sql(kind, 'r')}) OR "
        "EXISTS (SELECT 1 FROM search_pending p WHERE p.rid = r.id))", (rid,))]


Tail = list[tuple[int, int, int]]       # (stream, documents current up to, newest position)


def local_tails(conn: sqlite3.Connection, self_ord: int) -> Tail:
    """This replica's streams holding entries after the position search_mark notes."""
    return [(sid, mark, seq) for sid, mark, seq in conn.execute(
        f"SELECT id, mark, seq FROM (SELECT t.id, coalesce(m.seq, 0) AS mark, {OWN_POSITION} "
        "AS seq FROM stream t LEFT JOIN search_mark m ON m.stream = t.id WHERE t.origin = ?) "
        "AS v WHERE seq > mark", (self_ord, self_ord))]


def stale_local(conn: sqlite3.Connection, tails: Tail) -> list[tuple[str, str]]:
    """(kind, id) of the documents the entries of `tails` may have left stale: the records they
    wrote, the records holding a line they wrote (every holder the line ever named, read from its
    history), and those showing an agency they renamed."""
    out: dict[tuple[str, str], None] = {}
    lines: dict[str, K.Kind] = {}
    for sid, mark, seq in tails:
        for tbl, rid, cells in conn.execute(
                "SELECT tbl, rid, cells FROM change WHERE stream = ? AND seq > ? AND seq <= ? "
                "AND status = 0 UNION ALL SELECT tbl, rid, cells FROM change_recent "
                "WHERE stream = ? AND seq > ? AND seq <= ?", (sid, mark, seq) * 2):
            k = K.KIND_BY_TABLE.get(tbl)
            if k is None or k.search is None:
                continue
            if k.search.within:
                lines[rid] = k
                continue
            out[(k.name, rid)] = None
            if k.name == "agency" and (cells == byref.BYREF or '"name"' in cells
                                       or '"code"' in cells):
                out.update(dict.fromkeys(renamed_agency(conn, rid)))
    for rid, k in lines.items():
        rows: list[dict[str, Any]] = [{}]
        for (cells,) in conn.execute(
                "SELECT fc_cells(site, hlc, tbl, rid, cells) FROM change WHERE "
                f"{byref.of_record()} AND tbl = ? AND status = 0 UNION ALL SELECT fc_cells(site, "
                "hlc, tbl, rid, cells) FROM change_recent WHERE rid = ? AND tbl = ?",
                (*byref.record_args(rid, k.table), k.table, rid, k.table)):
            rows.append({c: v[0] for c, v in json.loads(cells).items() if v})
        out.update(dict.fromkeys(key for key, _ in line_documents(k, rid, rows)))
    return list(out)


def local_pending(conn: sqlite3.Connection, self_ord: int) -> int:
    """How many records this replica's own entries waiting for index_pending wrote."""
    tails = local_tails(conn, self_ord)
    if not tails:
        return 0
    ranges = " OR ".join("(stream = ? AND seq > ? AND seq <= ?)" for _ in tails)
    n: int = conn.execute(f"SELECT count(DISTINCT rid) FROM (SELECT rid FROM change WHERE {ranges} "
                          f"UNION ALL SELECT rid FROM change_recent WHERE {ranges})",
                          [v for t in tails for v in t] * 2).fetchone()[0]
    return n


def set_marks(conn: sqlite3.Connection, positions: Mapping[int, int]) -> None:
    """Note the documents current up to these positions of this replica's streams."""
    conn.executemany("INSERT OR REPLACE INTO search_mark (stream, seq) VALUES (?, ?)",
                     positions.items())


def mark_all(conn: sqlite3.Connection, self_ord: int) -> None:
    """Note every document current (search_doc was rebuilt from the records)."""
    conn.execute("INSERT OR REPLACE INTO search_mark (stream, seq) "
                 f"SELECT t.id, {OWN_POSITION} FROM stream t WHERE t.origin = ?",
                 (self_ord, self_ord))


def own_ord(conn: sqlite3.Connection) -> int:
    got = conn.execute("SELECT value FROM meta WHERE key = 'self_ord'").fetchone()
    return int(got[0]) if got else 1


def _note(conn: sqlite3.Connection, kind: str, rid: str, doc: Stored | None, new: bool) -> int:
    """Note a record's new document (None: it has none) in search_pending, unless that is what
    search_doc and the indexes hold already; returns 1 when it noted one."""
    noted = conn.execute("SELECT title, body, digits FROM search_pending "
                         "WHERE rid = ?", (rid,)).fetchone()
    if noted is not None:
        current = None if noted[0] is None else tuple(noted)
    elif new:
        current = None
    else:
        got = conn.execute(
            f'SELECT d.title, d.body, d.digits FROM "{K.KINDS[kind].table}" r JOIN search_doc '
            f"d ON d.docid = {_docid_sql(kind, 'r')} WHERE r.id = ?", (rid,)).fetchone()
        current = None if got is None else tuple(got)
    if current == doc:
        return 0
    conn.execute("INSERT OR REPLACE INTO search_pending (rid, kind, title, body, digits) "
                 "VALUES (?, ?, ?, ?, ?)", (rid, kind, *(doc or (None,) * 3)))
    return 1


def pending_count(conn: sqlite3.Connection, self_ord: int | None = None) -> int:
    """Documents noted in search_pending, and entries of this replica's own whose documents wait
    (their records, at most)."""
    n: int = conn.execute("SELECT count(*) FROM search_pending").fetchone()[0]
    return n + local_pending(conn, own_ord(conn) if self_ord is None else self_ord)


def index_pending(conn: sqlite3.Connection, self_ord: int | None = None) -> int:
    """Write every pending document to search_doc and both indexes (inside a transaction);
    returns how many there were."""
    return _write_pending(conn, index=True, self_ord=own_ord(conn) if self_ord is None
                          else self_ord)


def index_apart(path: str | Path) -> int:
    """index_pending through a connection of its own, in one transaction, after moving the
    entries waiting in change_recent into the log: for a thread other than the one that writes
    (a window's idle moment), which may then wait for a sync holding the database instead of
    the thread that draws. Returns how many documents were indexed."""
    conn = connect(path)
    try:
        recent = conn.execute("SELECT EXISTS (SELECT 1 FROM change_recent)").fetchone()[0]
        if not recent and not pending_count(conn):
            return 0
        conn.execute("BEGIN IMMEDIATE")
        try:
            # the small writes' entries join the log at the same idle moment (ChangeLog)
            for statement in TAKE_RECENT:
                conn.execute(statement)
            n = index_pending(conn)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return n
    finally:
        conn.close()


def _write_pending(conn: sqlite3.Connection, index: bool, self_ord: int) -> int:
    n = _write_noted(conn, index)
    tails = local_tails(conn, self_ord)
    if tails:
        stale = sorted(stale_local(conn, tails))
        _refresh(conn, [(key, None) for key in stale], {}, frozenset(), frozenset(),
                 later=False, bulk=False, deferred=False)
        set_marks(conn, {sid: seq for sid, _, seq in tails})
        n += len(stale)
    return n


def _write_noted(conn: sqlite3.Connection, index: bool) -> int:
    """Write the documents noted in search_pending to search_doc (and the indexes, with
    `index`); returns how many there were."""
    rows = conn.execute("SELECT kind, rid, title, body, digits FROM search_pending "
                        "ORDER BY rid").fetchall()
    if rows:
        _write_docs(conn, [(kind, rid, None if title is None else (title, body, digits))
                           for kind, rid, title, body, digits in rows], frozenset(), index)
        conn.execute("DELETE FROM search_pending")
    return len(rows)


def index_stale(conn: sqlite3.Connection) -> None:
    """Bring the indexes up to date for the documents noted stale by schema version 14 (its
    search_pending: what the indexes held for each, search_doc being current)."""
    rows = conn.execute(
        "SELECT p.docid, p.title, p.body, p.digits, p.indexed, d.title, d.body, d.digits "
        "FROM search_pending p LEFT JOIN search_doc d ON d.docid = p.docid "
        "ORDER BY p.docid").fetchall()
    for docid, o_title, o_body, o_digits, indexed, title, body, digits in rows:
        if indexed:
            _unindex(conn, (docid, o_title, "", o_body, o_digits))
        if title is not None:
            _index(conn, docid, title, body, digits)


def _index(conn: sqlite3.Connection, docid: int, title: str, body: str, digits: str) -> None:
    conn.execute("INSERT INTO search_fts (rowid, title, body) VALUES (?, ?, ?)",
                 (docid, title, body))
    if digits:
        conn.execute("INSERT INTO search_digits (rowid, digits) VALUES (?, ?)",
                     (docid, indexed_digits(digits)))


def _unindex(conn: sqlite3.Connection, old: tuple[int, str, str, str, str]) -> None:
    docid, title, _, body, digits = old
    conn.execute("INSERT INTO search_fts (search_fts, rowid, title, body) "
                 "VALUES ('delete', ?, ?, ?)", (docid, title, body))
    if digits:
        conn.execute("INSERT INTO search_digits (search_digits, rowid, digits) "
                     "VALUES ('delete', ?, ?)", (docid, indexed_digits(digits)))


# Bytes of terms FTS5 gathers in memory before it writes them as a segment (its default: 1 MB).
# A rebuild of 100,000 contacts then writes fewer, larger segments and merges less: 0.7 s
# instead of 1.3-1.8 s.
FTS_HASH_BYTES = 8 * 1024 * 1024


def rebuild_indexes(conn: sqlite3.Connection) -> None:
    """Rebuild both full-text indexes from search_doc."""
    conn.execute("INSERT INTO search_fts (search_fts, rank) VALUES ('hashsize', ?)",
                 (FTS_HASH_BYTES,))
    conn.execute("INSERT INTO search_fts (search_fts) VALUES ('rebuild')")
    index_digits(conn)
    if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'search_pending'").fetchone():
        conn.execute("DELETE FROM search_pending")      # (migrations before 0014 rebuild too)


def index_digits(conn: sqlite3.Connection) -> None:
    """Write the digits index afresh from search_doc (which keeps each phone's digits once,
    the index every trailing run of them: it holds no copy of its own, content='')."""
    conn.execute("INSERT INTO search_digits (search_digits) VALUES ('delete-all')")
    cur = conn.execute("SELECT docid, digits FROM search_doc WHERE digits != ''")
    while rows := cur.fetchmany(5000):
        conn.executemany("INSERT INTO search_digits (rowid, digits) VALUES (?, ?)",
                         [(n, indexed_digits(d)) for n, d in rows])


def number_by_kind(conn: sqlite3.Connection) -> None:
    """Give every document a number that carries its kind's code (schema version 18) and
    rebuild the indexes over the new numbers. The documents and those pending keep their
    text: the indexes hold what search_doc holds, as before."""
    # (people keep theirs; the other numbers move past every old one)
    conn.execute(f"UPDATE search_doc SET docid = docid | ({CODE_SQL} << {KIND_SHIFT}) "
                 "WHERE kind != 'contact'")
    conn.execute("INSERT INTO search_fts (search_fts) VALUES ('rebuild')")
    conn.execute("INSERT INTO search_digits (search_digits) VALUES ('rebuild')")


def rebuild_all(conn: sqlite3.Connection) -> int:
    """Write the document of every live searchable record afresh, reading each table once, and
    rebuild both indexes; returns the number of documents."""
    if "rid" in {c[1] for c in conn.execute("PRAGMA table_info(search_doc)")}:
        # (a migration before version 21, whose search_doc that one replaces and fills)
        return 0
    conn.execute("DELETE FROM search_doc")
    lines: dict[str, dict[str, list[Line]]] = {"contact": {}, "agency": {}}
    for column, held in lines.items():
        for line in conn.execute(_lines_sql(column, f'"{column}" IS NOT NULL')):
            got = held.get(line[0])
            if got is None:
                held[line[0]] = [line]
            else:
                got.append(line)
    cache: AgencyWords = {}
    insert = INSERT_DOC.format(table="search_doc")
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    # (during a migration, the tables of kinds added by later ones do not exist yet)
    for kind in (k for k in K.SEARCHABLE if K.KINDS[k].table in tables):
        # a contact's lines are part of its document, not documents of their own
        within = K.KINDS[kind].search.within  # type: ignore[union-attr]
        own = f' AND "{within}" IS NULL' if within else ""
        cur = conn.execute(f'SELECT rowid AS search_row, * FROM "{K.KINDS[kind].table}" '
                           f"WHERE _cl % 2 = 1{own}")
        names = [d[0] for d in cur.description]
        while True:
            rows = cur.fetchmany(5000)
            if not rows:
                break
            docs: list[tuple[int, str, str, str]] = []
            for values in rows:
                row = dict(zip(names, values))
                n = doc_number(kind, row["search_row"])
                doc = build_doc(conn, kind, row["id"], cache, row, prefetched=lines)
                if doc is not None and n is not None:
                    docs.append((n, doc[0] or "", doc[1], " ".join(doc[2])))
            conn.executemany(insert, docs)
    rebuild_indexes(conn)
    if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'search_mark'").fetchone():
        mark_all(conn, own_ord(conn))               # (migrations before 0017 rebuild too)
    count: int = conn.execute("SELECT count(*) FROM search_doc").fetchone()[0]
    return count


def fold(text: str) -> str:
    """Lowercase without accents: what the tokenizer compares."""
    nfkd = unicodedata.normalize("NFKD", text)
    return "".join(c for c in nfkd if not unicodedata.combining(c)).lower()


# the shortest prefix the full-text index keeps an index of (prefix = '3', schema version 24)
PREFIX_INDEXED = 3


def fts_query(text: str) -> str | None:
    """The FTS5 query for what a user typed: every word must match, each as a prefix.

    A word with inner punctuation (jane.doe@ccf, 155.7525) becomes a phrase. When its last part
    is shorter than the prefix index (kpena@frawsd9.us, nancy.torres@w), the phrase is matched
    whole, or the parts before that one as a prefix: a prefix of one or two letters would read
    every word that begins with them (2.9 times the raw query for such an address).
    """
    groups = []
    for word in text.split():
        toks = _TOKEN_RE.findall(word.replace("_", " "))
        if toks:
            phrase = '"' + " ".join(toks) + '"'
            begun = toks[:-1] if len(toks) > 1 and len(toks[-1]) < PREFIX_INDEXED else toks
            # the whole word scores twice, so "jose" ranks José above Joseph
            groups.append(f'({phrase} OR "{" ".join(begun)}"*)')
    return " AND ".join(groups) if groups else None


def digits_query(text: str) -> str | None:
    """For a query of digits and phone punctuation, the prefix query on digit suffixes."""
    digits = re.sub(r"\D", "", text)
    if PHONE_QUERY_RE.match(text.strip()) and len(digits) >= MIN_DIGITS:
        return f'"{digits}"*'
    return None


# the temporary indexes of the pending documents, by the index they stand in for
_PENDING_TABLES = {"search_fts": "pending_fts", "search_digits": "pending_digits",
                   "search_doc": "pending_doc"}


def _load_pending(conn: sqlite3.Connection, self_ord: int | None) -> int:
    """Fill this connection's temporary tables with the pending documents and their indexes
    (they change nothing in the database file, so a search never waits for a writer); returns
    how many documents are pending. temp.pending_ids numbers every record whose document is
    pending, those that have none any more included."""
    noted: int = conn.execute("SELECT count(*) FROM search_pending").fetchone()[0]
    tails = local_tails(conn, own_ord(conn) if self_ord is None else self_ord)
    if not noted and not tails:
        return 0
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS pending_doc (docid INTEGER PRIMARY KEY, "
                 "title TEXT, body TEXT, digits TEXT)")
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS pending_ids (docid INTEGER PRIMARY KEY)")
    conn.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.pending_fts USING fts5 (title, body, "
                 "tokenize = 'unicode61 remove_diacritics 2', prefix = '3')")
    conn.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.pending_digits USING fts5 (digits, "
                 "tokenize = 'unicode61', detail = none, columnsize = 0)")
    for table in (*_PENDING_TABLES.values(), "pending_ids"):
        conn.execute(f"DELETE FROM temp.{table}")
    docs: dict[tuple[str, str], Stored | None] = {}
    for kind, rid, title, body, digits in conn.execute(
            "SELECT kind, rid, title, body, digits FROM search_pending"):
        docs[kind, rid] = None if title is None else (title, body, digits)
    # the documents this replica's own writes left stale, built as they are now (one noted
    # by a sync and written here since: the one built now is the newer)
    for kind, rid in stale_local(conn, tails):
        doc = build_doc(conn, kind, rid, {})
        docs[kind, rid] = None if doc is None else (doc[0] or "", doc[1], " ".join(doc[2]))
    numbers = doc_numbers(conn, list(docs))
    conn.executemany("INSERT OR IGNORE INTO temp.pending_ids VALUES (?)",
                     [(n,) for n in numbers.values()])
    conn.executemany(INSERT_DOC.format(table="temp.pending_doc"),
                     [(numbers[key], *doc) for key, doc in docs.items()
                      if doc is not None and key in numbers])
    conn.execute("INSERT INTO temp.pending_fts (rowid, title, body) "
                 "SELECT docid, title, body FROM temp.pending_doc")
    conn.executemany("INSERT INTO temp.pending_digits (rowid, digits) VALUES (?, ?)",
                     [(n, indexed_digits(d)) for n, d in conn.execute(
                         "SELECT docid, digits FROM temp.pending_doc WHERE digits != ''")])
    return len(docs)


def _in_pending(sql: str) -> str:
    """The same query over the temporary tables of the pending documents."""
    for table, temp in _PENDING_TABLES.items():
        sql = re.sub(rf"\b{table}\b", temp, sql)
    return sql


# {kind: the fields its subtitle shows (ops "ref": the agency's id)}
_SHOWN = {kind: tuple(dict.fromkeys(f for op in plan.subtitle
                                    for f in (op.numbers or (op.name,))))
          for kind, plan in _PLANS.items()}


def _hits(conn: sqlite3.Connection, found: Mapping[int, tuple[str, float]]) -> list[Hit]:
    """The hits of these {document number: (title, score)}: each number's record read by its
    row number (a kind's table at a time, the fields its subtitle shows), the agencies they
    name read at once, each subtitle made from them."""
    by_kind: dict[str, list[int]] = {}
    for n in found:
        kind = kind_of(n)
        if kind is not None:
            by_kind.setdefault(kind, []).append(n & ROW_MASK)
    rows: list[tuple[str, RowDict]] = []
    agencies: set[str] = set()
    for kind, rowids in by_kind.items():
        names = ("search_row", "id", *_SHOWN[kind])
        columns = ", ".join(f'"{c}"' for c in names[1:])
        refs = [c for c in _SHOWN[kind] if K.KINDS[kind].field_map[c].type == K.REF]
        for values in conn.execute(
                f'SELECT rowid, {columns} FROM "{K.KINDS[kind].table}" WHERE rowid IN '
                f"({','.join('?' * len(rowids))}) AND _cl % 2 = 1", rowids):
            row = dict(zip(names, values))
            rows.append((kind, row))
            agencies.update(row[c] for c in refs if row[c])
    cache: AgencyWords = dict.fromkeys(agencies, ("", ""))
    if agencies:
        cache.update((aid, (name or "", code or "")) for aid, name, code in conn.execute(
            f"SELECT id, name, code FROM agency WHERE id IN ({','.join('?' * len(agencies))}) "
            "AND _cl % 2 = 1", list(agencies)))
    out = []
    for kind, row in rows:
        title, score = found[cast(int, doc_number(kind, row["search_row"]))]
        out.append(Hit(kind, row["id"], title, subtitle(conn, kind, row, cache), score))
    return out


# The kinds whose title is the field their list's alphabetical index holds (ddl.indexes), and
# which are documents of their own: a short query reads their records there. search_doc's title
# index leaves them out (schema version 24; the condition is written as the index has it).
NAMED_KINDS = tuple(k.name for k in K.KINDS.values()
                    if k.sorted_index and k.search is not None and not k.search.title
                    and not k.search.within)
_NOT_NAMED = (f"d.docid >> {KIND_SHIFT} NOT IN "
              f"({', '.join(str(c) for c in sorted(CODE_OF[k] for k in NAMED_KINDS))})")
_TOP = "\U0010ffff"        # above every character: "ab" + _TOP is past every title "ab..."


def _named_sql(kind: K.Kind) -> str:
    key = f'coalesce(r."{kind.title_field}", \'\') COLLATE NOCASE'
    return (f"SELECT {_docid_sql(kind.name, 'r')}, coalesce(r.\"{kind.title_field}\", '') "
            f'FROM "{kind.table}" r WHERE {key} >= :low AND {key} < :high AND {key} LIKE :like '
            f"AND r._cl % 2 = 1 ORDER BY {key} LIMIT :limit")


_NAMED_SQL = {k: _named_sql(K.KINDS[k]) for k in NAMED_KINDS}
_TITLED_SQL = ("SELECT d.docid, d.title FROM search_doc d WHERE d.title LIKE :like AND "
               f"{_NOT_NAMED}{{kind}}{{{{fresh}}}} ORDER BY d.title COLLATE NOCASE LIMIT :limit")


def search(conn: sqlite3.Connection, text: str, kind: str | None = None,
           limit: int = 20, self_ord: int | None = None) -> list[Hit]:
    """Ranked hits: words by bm25 (title weighs most), phone digits as strong matches."""
    code = CODE_OF.get(kind or "", -1)
    # (a range of numbers: the index reads only that kind's part of each word's list)
    of_kind = (f" AND {{doc}} > (:code << {KIND_SHIFT}) AND {{doc}} < ((:code + 1) << "
               f"{KIND_SHIFT})" if kind else "")
    found: dict[int, tuple[str, float]] = {}        # {document number: (title, score)}
    # pending documents are not in search_doc and the indexes yet (or are there as they were):
    # there they are left out, and matched in temporary tables instead
    pending = _load_pending(conn, self_ord)

    def rows_of(sql: str, args: dict[str, Any], doc: str = "d.docid") -> list[Any]:
        """The query's rows, and when documents are pending, its rows over them too (`doc`:
        the number of the document, left out of the first when it is pending)."""
        stale = f" AND {doc} NOT IN (SELECT docid FROM temp.pending_ids)"
        rows = conn.execute(sql.replace("{fresh}", stale if pending else ""), args).fetchall()
        if pending:
            rows += conn.execute(_in_pending(sql.replace("{fresh}", "")), args).fetchall()
        return rows

    def run(score: str, table: str, query: str) -> int:
        # The matches ranked inside the index, their kind read from their numbers; only the
        # page's documents are read (joining every match's document to rank it cost as much
        # as the match itself).
        doc = f"{table}.rowid"
        boost = f"CASE {doc} >> {KIND_SHIFT} " + " ".join(
            f"WHEN {CODE_OF[k]} THEN {v}" for k, v in KIND_BOOST.items()) + " ELSE 1.0 END"
        sql = (f"SELECT t.docid, d.title, t.score FROM (SELECT {doc} AS docid, "
               f"{score} * ({boost}) AS score FROM {table} WHERE {table} MATCH :query"
               f"{of_kind.format(doc=doc)}{{fresh}} ORDER BY score LIMIT :limit) t "
               "JOIN search_doc d ON d.docid = t.docid")
        rows = rows_of(sql, {"query": query, "code": code, "limit": int(limit)}, doc)
        for n, title, value in rows:
            if n not in found or -value > found[n][1]:
                found[n] = (title, -value)
        return len(rows)

    short = text.strip()
    if kind in (None, "agency") and short.isalnum() and len(short) <= 12:
        # a liaison types a partner's code (hcso) to reach the agency: it comes first, in the
        # app and on the command line alike
        upper = short.upper()
        for n, title in rows_of(
                # (a range of the live agencies' codes, then their documents; codes are
                # upper case)
                "SELECT d.docid, d.title FROM agency a CROSS JOIN search_doc d ON d.docid = "
                f"{_docid_sql('agency', 'a')} WHERE a.code >= :low AND a.code < :high AND "
                "a._cl % 2 = 1{fresh} ORDER BY a.code LIMIT :limit",
                {"low": upper, "high": upper + "\uffff", "limit": int(limit)}):
            found[n] = (title, CODE_START - len(found))
    if 0 < len(short) <= SHORT_QUERY and short.isalpha():
        # One or two letters match a good part of the directory: rank them alphabetically by
        # the titles that begin with them (an index range), as a phone's contact list does.
        # The large lists' records are read in their own title indexes (always current), the
        # other kinds' documents in search_doc's.
        args = {"like": short + "%", "low": short, "high": short + _TOP, "code": code,
                "limit": int(limit)}
        titled: list[tuple[int, str]] = []
        for k in NAMED_KINDS if kind is None else (kind,) if kind in NAMED_KINDS else ():
            titled += conn.execute(_NAMED_SQL[k], args).fetchall()
        if kind not in NAMED_KINDS:
            titled += rows_of(_TITLED_SQL.format(kind=of_kind.format(doc="d.docid")), args)
        titled.sort(key=lambda t: t[1].casefold())
        for n, title in titled[:limit]:
            if n not in found:
                found[n] = (title, TITLE_START * KIND_BOOST.get(kind_of(n) or "", 1.0))
        if len(found) >= limit:
            return sorted(_hits(conn, found), key=lambda h: (-h.score, h.title.casefold()))
    words, digits = fts_query(text), digits_query(text)
    if digits:
        run(str(DIGITS_SCORE), "search_digits", digits)
    if words:
        bm25 = f"bm25(search_fts, {WEIGHTS[0]}, {WEIGHTS[1]})"
        # Matches in titles rank first; a common word ("county") matches far fewer titles than
        # documents, so ranking the titles alone is much cheaper when they fill the page.
        if run(bm25, "search_fts", f"title : ({words})") < limit:
            run(bm25, "search_fts", words)
    best = sorted(found.items(), key=lambda f: (-f[1][1], f[1][0]))[:limit]
    return sorted(_hits(conn, dict(best)), key=lambda h: (-h.score, h.title))
