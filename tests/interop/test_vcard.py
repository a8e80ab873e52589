# SPDX-License-Identifier: GPL-3.0-or-later
"""vCard import and export: real files from phones and mail clients, duplicates, round trips."""
import json
import re
from pathlib import Path

import pytest

from fieldcoord.core.errors import Cancelled, ValidationError
from fieldcoord.interop import vcard
from fieldcoord.interop.runner import run_export, run_import

CORPUS_VCARD = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "vcard"
CORPUS_FILES = sorted(p for p in CORPUS_VCARD.rglob("*") if p.is_file()) \
    if CORPUS_VCARD.is_dir() else []


def _corpus_or_skip():
    if not CORPUS_VCARD.is_dir():
        pytest.skip(f"the shared corpus is not at {CORPUS_VCARD}")


def contacts_by_name(store):
    return {r.values["name"]: r for r in store.list("contact")}


def methods_of(store, rid):
    return sorted((m.values["kind"], m.values["value"], m.values["label"])
                  for m in store.children("method", "contact", rid))


def agency_lines(store, aid):
    return sorted((m.values["kind"], m.values["value"])
                  for m in store.list("method", {"agency": aid}) if not m.values["contact"])


# ----------------------------------------------------------------------- facts of a file
def _digits(text):
    return re.sub(r"\D", "", text)


def _words(text):
    return {w for w in re.findall(r"\w+", text.casefold())}


def file_facts(path, imported_lines=None):
    """TEL (digits or text), EMAIL and ADR (set of words) of each card, read independently of
    the mapping to records: {card line: (tels, emails, addresses)}."""
    out = {}
    for item in vcard.parse_file(Path(path)):
        if isinstance(item, vcard.CardError):
            continue
        if imported_lines is not None and item.line not in imported_lines:
            continue
        tels, emails, adrs = [], [], []
        for p in item.props:
            if p.name == "TEL":
                t = vcard.text_of(p, item)
                tels.append(_digits(t) or t.casefold())
            elif p.name == "EMAIL":
                t = vcard.text_of(p, item).casefold()
                emails.append(t[7:] if t.startswith("mailto:") else t)
            elif p.name == "ADR":
                w = _words(" ".join(vcard.parts_of(p, item)))
                if w:
                    adrs.append(w)
        out[item.line] = ([t for t in tels if t], [e for e in emails if e], adrs)
    return out


def assert_all_present(original, exported):
    """Every TEL, EMAIL and ADR of the original cards is on some card of the exported file."""
    tels = [t for tel, _, _ in exported.values() for t in tel]
    emails = {e for _, em, _ in exported.values() for e in em}
    adrs = [a for _, _, ad in exported.values() for a in ad]
    for line, (tel, em, ad) in original.items():
        for t in tel:
            assert any(x == t or (t.isdigit() and x.endswith(t)) for x in tels), (line, t)
        for e in em:
            assert e in emails, (line, e)
        for a in ad:
            assert any(a <= x for x in adrs), (line, a)


# ----------------------------------------------------------------------- the corpus
@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda p: p.name)
def test_every_corpus_file_imports_and_survives_export_and_reimport(path, hcem, other_store,
                                                                     tmp_path):
    _corpus_or_skip()
    report = run_import(hcem, "vcard", [path])
    skipped_lines = {p.line for p in report.skipped}
    assert report.added or report.updated or report.unchanged or report.skipped
    for p in report.skipped:
        assert p.source == str(path) and p.reason
    imported = {line for line in file_facts(path) if line not in skipped_lines}
    original = file_facts(path, imported)
    for version in ("3.0", "4.0"):
        out = tmp_path / f"out-{version}.vcf"
        run_export(hcem, "vcard", out, {"vcard_version": version})
        assert_all_present(original, file_facts(out))
        if not (report.added or report.updated or report.unchanged):
            # every card was skipped: the export holds none, and a file without a card is
            # refused as a whole
            with pytest.raises(ValidationError, match="no vCard in this file"):
                run_import(other_store, "vcard", [out])
            continue
        again = run_import(other_store, "vcard", [out])
        assert not again.skipped
    # the second import matched the first one's cards: the same contacts, no duplicates
    assert sorted(c.values["name"] for c in other_store.list("contact")) == \
        sorted(c.values["name"] for c in hcem.list("contact"))


def _content(store):
    """Everything an import put in the directory, without ids."""
    names = {a.id: a.values["name"] for a in store.list("agency")}
    out = set()
    for c in store.list("contact"):
        v = c.values
        out.add(("contact", v["name"], names.get(v["agency"]), v["title"], v["ics_position"],
                 v["languages"], v["notes"],
                 tuple(sorted((m.values["kind"], m.values["value"], m.values["label"] or "",
                               m.values["priority"] or 0)
                              for m in store.children("method", "contact", c.id)))))
    for a in store.list("agency"):
        out.add(("agency", a.values["name"], a.values["address"], a.values["website"],
                 a.values["notes"], tuple(agency_lines(store, a.id))))
    return out


def kcontacts_pairs():
    if not CORPUS_VCARD.is_dir():
        return []
    pairs = []
    for exp in sorted((CORPUS_VCARD / "kcontacts-roundtrip").glob("*.expected-*.vcf")):
        src = exp.with_name(exp.name.split(".expected-")[0] + ".vcf")
        if src.exists():
            pairs.append((src, exp))
    return pairs


@pytest.mark.parametrize("src,expected", kcontacts_pairs(), ids=lambda p: p.name)
def test_kcontacts_pairs_lose_no_field(src, expected, hcem, other_store):
    """kcontacts reads each source card and writes the expected one: both must give the
    same directory entries here (2.1 and 3.0/4.0 spellings, folding, charsets)."""
    _corpus_or_skip()
    run_import(hcem, "vcard", [src])
    run_import(other_store, "vcard", [expected])
    assert _content(hcem) == _content(other_store)


def test_kcontacts_pairs_are_in_the_corpus():
    _corpus_or_skip()
    assert len(kcontacts_pairs()) >= 20


def test_iphone_card_maps_labels_addresses_and_org(hcem):
    _corpus_or_skip()
    report = run_import(hcem, "vcard", [CORPUS_VCARD / "ez-vcard" / "John_Doe_IPHONE.vcf"])
    assert report.added["contact"] == 1 and report.added["agency"] == 1
    john = contacts_by_name(hcem)["Mr. John Richter James Doe Sr."]
    assert john.values["title"] == "Money Counter"
    assert hcem.get(john.values["agency"]).values["name"] == "IBM"
    methods = methods_of(hcem, john.id)
    assert ("mobile", "+19055551234", None) in methods
    assert ("fax", "+19058881234", "home") in methods
    assert ("pager", "+19051111234", None) in methods
    assert ("phone", "+19052221234", "AssistantPhone") in methods     # item2.X-ABLabel
    assert ("email", "john.doe@ibm.com", None) in methods
    assert ("other", "Silicon Alley 5,, New York, New York 12345, United States of America",
            "home address") in methods
    assert any(k == "other" and v == "http://www.ibm.com" for k, v, _ in methods)
    assert any("photo" in n for n in report.notes)


def test_android_quoted_printable_utf8_across_soft_line_breaks(hcem):
    _corpus_or_skip()
    run_import(hcem, "vcard", [CORPUS_VCARD / "ez-vcard" / "John_Doe_ANDROID.vcf"])
    names = set(contacts_by_name(hcem))
    assert "Ñ Ñ Ñ Ñ Ñ Ñ Ñ Ñ Ñ Ñ Ñ" in names


def test_jcard_and_xcard_files_import(hcem):
    _corpus_or_skip()
    run_import(hcem, "vcard", [CORPUS_VCARD / "ez-vcard" / "jcard-example.json",
                               CORPUS_VCARD / "ez-vcard" / "rfc6351-xcard-example.xml"])
    people = contacts_by_name(hcem)
    assert "Simon Perreault" in people
    emails = [v for k, v, _ in methods_of(hcem, people["Simon Perreault"].id) if k == "email"]
    assert "simon.perreault@viagenie.ca" in emails


# ----------------------------------------------------------------------- hand-written cards
CARDS = """
BEGIN:VCARD
VERSION:3.0
FN:José Núñez
N:Núñez;José;;;
ORG:Metro Police Department;Patrol
TITLE:Watch Commander
TEL;TYPE=WORK,VOICE:(202) 555-0142
item1.TEL:+1 360 555 0117
item1.X-ABLabel:_$!<Mobile>!$_
EMAIL;TYPE=INTERNET,WORK:jose.nunez@mpd.example
NOTE:Speaks Spanish\\, English\\nCall before 22:00
END:VCARD
BEGIN:VCARD
VERSION:2.1
N;CHARSET=ISO-8859-1;ENCODING=QUOTED-PRINTABLE:M=FCller;J=FCrgen
TEL;CELL:202-555-0199
LABEL;WORK;ENCODING=QUOTED-PRINTABLE:1 Harbor Way=0D=0A=
Port City
END:VCARD
BEGIN:VCARD
VERSION:4.0
KIND:org
FN:Harbor County Sheriff
ORG:Harbor County Sheriff
TEL;VALUE=uri;TYPE=work;PREF=1:tel:+1-202-555-0100
ADR;TYPE=work:;;12 Court St;Port City;WA;98001;USA
URL:https://sheriff.harbor.example
END:VCARD
"""


def test_hand_written_cards_map_to_contacts_methods_and_agencies(hcem, write):
    report = run_import(hcem, "vcard", [write("three.vcf", CARDS)])
    assert report.added["contact"] == 2 and not report.skipped
    people = contacts_by_name(hcem)
    jose = people["José Núñez"]
    assert jose.values["notes"] == "Speaks Spanish, English\nCall before 22:00"
    mpd = hcem.get(jose.values["agency"])
    assert mpd.values["name"] == "Metro Police Department" and mpd.values["code"] == "MPD"
    assert methods_of(hcem, jose.id) == [
        ("email", "jose.nunez@mpd.example", "work"), ("mobile", "+13605550117", None),
        ("phone", "+12025550142", "work")]
    # vCard 2.1 quoted-printable in ISO-8859-1, built from N when FN is missing
    assert "Jürgen Müller" in people
    assert ("other", "1 Harbor Way, Port City", "work address") in \
        methods_of(hcem, people["Jürgen Müller"].id)
    # an organisation's own card is the agency, with its duty line
    sheriff = [a for a in hcem.list("agency") if a.values["name"] == "Harbor County Sheriff"][0]
    assert sheriff.values["address"] == "12 Court St, Port City, WA 98001, USA"
    assert sheriff.values["website"] == "https://sheriff.harbor.example"
    assert agency_lines(hcem, sheriff.id) == [("phone", "+12025550100")]


def test_utf16_with_bom_and_cp1252_files(hcem, write):
    text = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Zoë Ångström\r\nEMAIL:zoe@harbor.example\r\n" \
           "END:VCARD\r\n"
    run_import(hcem, "vcard", [write("u16.vcf", b"\xff\xfe" + text.encode("utf-16-le"))])
    run_import(hcem, "vcard", [write("w.vcf", text.replace("Zoë Ångström", "Renée Façade")
                                     .replace("zoe@", "renee@").encode("cp1252"))])
    assert {"Zoë Ångström", "Renée Façade"} <= set(contacts_by_name(hcem))


def test_a_line_folded_inside_a_utf8_character(hcem, write):
    name = "Ελένη Παπαδοπούλου"
    data = f"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:{name}\r\nEND:VCARD\r\n".encode()
    cut = data.index("Παπ".encode()) + 1               # inside the two bytes of a letter
    run_import(hcem, "vcard", [write("fold.vcf", data[:cut] + b"\r\n " + data[cut:])])
    assert name in contacts_by_name(hcem)


def _card21(name, charset, codepage, qp=False, email=""):
    """A vCard 2.1 card as its bytes: the name in `codepage`, plain or quoted-printable."""
    import quopri
    raw = name.encode(codepage)
    value = quopri.encodestring(raw, quotetabs=True).replace(b"=20", b" ") if qp else raw
    enc = b";ENCODING=QUOTED-PRINTABLE" if qp else b""
    family, given = name.split(" ", 1)[1].encode(codepage), name.split(" ", 1)[0].encode(codepage)
    if qp:
        family, given = quopri.encodestring(family), quopri.encodestring(given)
    return (b"BEGIN:VCARD\r\nVERSION:2.1\r\nN;CHARSET=" + charset + enc + b":" + family + b";"
            + given + b";;;\r\nFN;CHARSET=" + charset + enc + b":" + value
            + b"\r\nEMAIL;INTERNET:" + email.encode() + b"\r\nEND:VCARD\r\n")


def test_vcard21_charset_of_each_property_is_honoured(hcem, write):
    greek, greek_caps, hebrew = "Βαγγέλης Παπαδόπουλος", "ΝΙΚΟΣ ΠΑΠΑΔΑΚΗΣ", "יוסי כהן"
    cards = (_card21(greek, b"Windows-1253", "cp1253", email="vp@fire.gr")
             + _card21(greek_caps, b"Windows-1253", "cp1253", email="np@fire.gr")
             + _card21(hebrew, b"Windows-1255", "cp1255", email="yk@mda.il")
             + _card21("Ελένη Οικονόμου", b"Windows-1253", "cp1253", qp=True, email="eo@fire.gr")
             + _card21("דוד לוי", b"WINDOWS-1255", "cp1255", qp=True, email="dl@mda.il"))
    # a file of names in capitals alone (its bytes also read as Japanese Shift-JIS)
    caps = _card21("ΣΤΑΥΡΟΣ ΚΑΡΑΜΑΝΛΗΣ", b"Windows-1253", "cp1253", email="sk@fire.gr")
    report = run_import(hcem, "vcard", [write("el-he.vcf", cards), write("caps.vcf", caps)])
    assert not report.skipped
    assert set(contacts_by_name(hcem)) == {greek, greek_caps, hebrew, "Ελένη Οικονόμου",
                                           "דוד לוי", "ΣΤΑΥΡΟΣ ΚΑΡΑΜΑΝΛΗΣ"}


def test_vcard21_charset_wins_over_the_named_file_encoding(hcem, write):
    # the file is read as Windows-1253 (the user said so); a Hebrew card says its own charset
    cards = _card21("Βαγγέλης Παπαδόπουλος", b"Windows-1253", "cp1253", email="vp@fire.gr") \
        + _card21("יוסי כהן", b"Windows-1255", "cp1255", email="yk@mda.il")
    run_import(hcem, "vcard", [write("mixed.vcf", cards)], {"encoding": "cp1253"})
    assert set(contacts_by_name(hcem)) == {"Βαγγέλης Παπαδόπουλος", "יוסי כהן"}


def test_vcard21_unknown_charset_falls_back_to_the_file_encoding(hcem, write):
    card = _card21("Βαγγέλης Παπαδόπουλος", b"X-NO-SUCH-CHARSET", "cp1253", email="vp@fire.gr")
    run_import(hcem, "vcard", [write("unknown.vcf", card)], {"encoding": "cp1253"})
    assert set(contacts_by_name(hcem)) == {"Βαγγέλης Παπαδόπουλος"}


def test_malformed_card_is_reported_with_file_and_line_and_the_others_import(hcem, write):
    path = write("mixed.vcf", """
BEGIN:VCARD
VERSION:3.0
FN:Ana Lima
EMAIL:ana@harbor.example
END:VCARD
BEGIN:VCARD
VERSION:3.0
FN:Broken Card
TEL;TYPE=work
END:VCARD
BEGIN:VCARD
VERSION:3.0
FN:No End
BEGIN:VCARD
VERSION:3.0
FN:Ben Ode
EMAIL:ben@harbor.example
END:VCARD
""")
    report = run_import(hcem, "vcard", [path])
    assert sorted(contacts_by_name(hcem)) == ["Ana Lima", "Ben Ode"]
    assert [(p.source, p.line) for p in report.skipped] == [(str(path), 9), (str(path), 11)]
    assert "TEL" in report.skipped[0].reason and "END:VCARD" in report.skipped[1].reason
    assert f"{path}:9" in report.summary()


def test_a_file_without_cards_is_bad_input(hcem, write):
    # as a file that is not a calendar for `import ical`: the whole import is refused
    notes = write("notes.txt", "just some text\n")
    with pytest.raises(ValidationError, match="notes.txt: no vCard in this file"):
        run_import(hcem, "vcard", [write("one.vcf", CARDS), notes])
    assert not contacts_by_name(hcem)


# ----------------------------------------------------------------------- duplicates
def test_reimporting_the_same_file_adds_nothing(hcem, write):
    path = write("three.vcf", CARDS)
    run_import(hcem, "vcard", [path])
    before = hcem.dump()
    again = run_import(hcem, "vcard", [path])
    assert not again.added and not again.updated
    assert again.unchanged["contact"] == 2 and again.unchanged["agency"] == 1
    assert hcem.dump() == before


def test_matches_by_email_phone_or_name_at_agency_update_instead_of_duplicating(hcem, write):
    run_import(hcem, "vcard", [write("a.vcf", CARDS)])
    jose = contacts_by_name(hcem)["José Núñez"]
    update = write("b.vcf", """
BEGIN:VCARD
VERSION:3.0
FN:J. Nunez
EMAIL:jose.nunez@mpd.example
TEL;TYPE=HOME:+1 (202) 555 0177
ROLE:Liaison Officer
TITLE:Something Else
END:VCARD
BEGIN:VCARD
VERSION:3.0
FN:Jürgen Müller-Smith
TEL;TYPE=CELL:+1 202 555 0199
END:VCARD
BEGIN:VCARD
VERSION:3.0
FN:jose nuñez
ORG:Metro Police Department
EMAIL:jnunez@home.example
END:VCARD
""")
    report = run_import(hcem, "vcard", [update])
    assert not report.added["contact"]
    assert report.updated["contact"] == 2 and report.unchanged["contact"] == 1
    jose = hcem.get(jose.id)
    assert jose.values["name"] == "José Núñez"                 # names are never overwritten
    assert jose.values["title"] == "Watch Commander"           # nor filled fields
    assert jose.values["ics_position"] == "Liaison Officer"    # empty ones are filled
    values = [v for _, v, _ in methods_of(hcem, jose.id)]
    assert "+12025550177" in values and "jnunez@home.example" in values
    assert len(hcem.list("contact")) == 2


def test_a_phone_shared_by_two_contacts_does_not_match(hcem, write):
    run_import(hcem, "vcard", [write("a.vcf", """
BEGIN:VCARD
VERSION:3.0
FN:Desk A
TEL:202-555-0100
END:VCARD
BEGIN:VCARD
VERSION:3.0
FN:Desk B
TEL:202-555-0100
END:VCARD
""")])
    assert len(hcem.list("contact")) == 2          # two people on one office line
    report = run_import(hcem, "vcard", [write("b.vcf", """
BEGIN:VCARD
VERSION:3.0
FN:D. Desk B
TEL:(202) 555-0100
EMAIL:b@harbor.example
END:VCARD
BEGIN:VCARD
VERSION:3.0
FN:Desk C
TEL:(202) 555-0100
END:VCARD
""")])
    # the name tells which holder of the line a card is; a name that fits none is new
    assert report.updated["contact"] == 1 and report.added["contact"] == 1
    desk_b = contacts_by_name(hcem)["Desk B"]
    assert ("email", "b@harbor.example", None) in methods_of(hcem, desk_b.id)


# ----------------------------------------------------------------------- all or nothing
def test_a_cancelled_or_failed_import_leaves_the_database_as_it_was(hcem, write):
    path = write("three.vcf", CARDS)
    before = hcem.dump()
    with pytest.raises(Cancelled):
        run_import(hcem, "vcard", [path], cancelled=lambda: True)
    assert hcem.dump() == before
    with pytest.raises(ValidationError, match="no agency with code 'NOPE'"):
        run_import(hcem, "vcard", [path], {"agency": "NOPE"})
    assert hcem.dump() == before
    report = run_import(hcem, "vcard", [path], dry_run=True)
    assert report.dry_run and report.added["contact"] == 2
    assert hcem.dump() == before


def test_progress_is_reported(hcem, write):
    cards = "".join(f"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Person {i}\r\n"
                    f"EMAIL:p{i}@harbor.example\r\nEND:VCARD\r\n" for i in range(450))
    seen = []
    run_import(hcem, "vcard", [write("many.vcf", cards.encode())],
               progress=lambda label, v, m: seen.append((v, m)))
    assert seen and seen[-1] == (450, 450) and len(seen) >= 3


# ----------------------------------------------------------------------- export
def _lines(path):
    data = Path(path).read_bytes()
    assert b"\n" not in data.replace(b"\r\n", b"")          # CRLF only
    return data.decode("utf-8").split("\r\n")


def test_export_is_folded_escaped_crlf_and_reads_back(hcem, other_store, tmp_path):
    mpd = hcem.add("agency", {"name": "Metro Police Department", "code": "MPD"})
    hcem.add("method", {"agency": mpd, "kind": "phone", "value": "(202) 555-0100",
                        "duty": "24/7", "label": "Dispatch"})
    cid = hcem.add("contact", {
        "name": "Ana Lima; Jr.", "agency": "MPD", "title": "Sergeant, Patrol",
        "notes": "Line one\nLine two with a long text " + "é" * 60,
        "phone": "(202) 555-0142 ext. 12", "email": "ana@mpd.example", "call_sign": "metro 12"})
    out = tmp_path / "mpd.vcf"
    report = run_export(hcem, "vcard", out, {"agency": "MPD"})
    assert report.written == {"agency": 1, "contact": 1}
    lines = _lines(out)
    assert all(len(line.encode("utf-8")) <= 75 for line in lines)
    assert "FN:Ana Lima\\; Jr." in lines and "TITLE:Sergeant\\, Patrol" in lines
    assert "VERSION:3.0" in lines and "X-ABShowAs:COMPANY" in lines
    unfolded = "\r\n".join(lines).replace("\r\n ", "")
    assert "NOTE:Line one\\nLine two" in unfolded
    run_import(other_store, "vcard", [out])
    again = contacts_by_name(other_store)["Ana Lima; Jr."]
    assert again.values["title"] == "Sergeant, Patrol"
    assert again.values["notes"] == hcem.get(cid).values["notes"]
    assert methods_of(other_store, again.id) == methods_of(hcem, cid)
    line = other_store.list("method", {"agency": "MPD"})
    assert [(m.values["value"], m.values["duty"], m.values["label"]) for m in line
            if not m.values["contact"]] == [("+12025550100", "24/7", "Dispatch")]


def test_export_version_4_and_selection_by_search_and_ids(hcem, tmp_path):
    a = hcem.add("contact", {"name": "Ana Lima", "mobile": "+1 360 555 0117"})
    b = hcem.add("contact", {"name": "Ben Ode", "email": "ben@harbor.example"})
    out = tmp_path / "v4.vcf"
    run_export(hcem, "vcard", out, {"search": "ana", "vcard_version": "4.0"})
    text = out.read_text(encoding="utf-8")
    assert text.count("BEGIN:VCARD") == 1 and "VERSION:4.0" in text
    assert "TEL;VALUE=uri;TYPE=cell:tel:+13605550117" in text
    report = run_export(hcem, "vcard", out, {"ids": [a, b]})
    assert report.written == {"contact": 2}
    with pytest.raises(ValidationError, match="3.0 or 4.0"):
        run_export(hcem, "vcard", out, {"vcard_version": "2.1"})
    with pytest.raises(ValidationError, match="no agency with code"):
        run_export(hcem, "vcard", out, {"agency": "NOPE"})


def test_exported_files_read_by_vobject(hcem, tmp_path):
    """A second, independent reader accepts what fieldcoord writes."""
    vobject = pytest.importorskip("vobject")
    hcem.add("contact", {"name": "Ana Lima", "title": "A, B; C", "phone": "202-555-0142",
                         "email": "ana@harbor.example", "notes": "x\ny" * 40})
    for version in ("3.0", "4.0"):
        out = tmp_path / f"v{version}.vcf"
        run_export(hcem, "vcard", out, {"vcard_version": version})
        card = next(vobject.readComponents(out.read_text(encoding="utf-8")))
        assert card.fn.value == "Ana Lima"
        assert card.title.value == "A, B; C"


# ----------------------------------------------------------------------- command line
def test_cli_import_and_export_with_json(hcem, write, tmp_path, capsys):
    from fieldcoord.cli import main
    db = str(hcem.path)
    hcem.close()
    path = write("three.vcf", CARDS)
    assert main(["--db", db, "--json", "import", "vcard", str(path)]) == 0
    got = json.loads(capsys.readouterr().out)
    assert got["added"]["contact"] == 2 and got["files"] == [str(path)]
    out = tmp_path / "mpd.vcf"
    assert main(["--db", db, "--json", "export", "vcard", str(out), "--agency", "MPD",
                 "--vcard-version", "4.0"]) == 0
    assert json.loads(capsys.readouterr().out)["written"] == {"agency": 1, "contact": 1}
    assert main(["--db", db, "import", "vcard", str(tmp_path / "missing.vcf")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_scope_of_imported_contacts(hcem, write):
    path = write("three.vcf", CARDS)
    with pytest.raises(ValidationError, match="scope: no agency with code 'NOPE'"):
        run_import(hcem, "vcard", [path], {"scope": "NOPE"})
    run_import(hcem, "vcard", [path], {"scope": "private"})
    jose = contacts_by_name(hcem)["José Núñez"]
    assert jose.scope == "private"
    assert {m.scope for m in hcem.children("method", "contact", jose.id)} == {"private"}


def _directory_facts(store):
    """Contacts and contact methods as a liaison sees them, without ids."""
    codes = {a.id: a.values["code"] for a in store.list("agency")}
    names = {}
    for c in store.list("contact"):
        v = c.values
        names[c.id] = (v["name"], codes.get(v["agency"]), v["title"], v["ics_position"],
                       v["languages"], v["notes"])
    methods = sorted(
        repr((names.get(m.values["contact"]), codes.get(m.values["agency"]),
              *(m.values[k] for k in ("kind", "value", "label", "priority", "duty",
                                      "verified_on", "verified_by"))))
        for m in store.list("method"))
    return sorted(map(repr, names.values())), methods


@pytest.mark.parametrize("version", ["3.0", "4.0"])
def test_the_demo_directory_survives_vcard_export_and_import(version, hcem, other_store,
                                                            tmp_path):
    from fieldcoord.demo import load_demo
    load_demo(hcem)
    out = tmp_path / "demo.vcf"
    report = run_export(hcem, "vcard", out, {"vcard_version": version})
    assert report.written["contact"] == len(hcem.list("contact"))
    before = hcem.dump()
    again = run_import(hcem, "vcard", [out])
    assert not again.added and not again.updated and hcem.dump() == before
    run_import(other_store, "vcard", [out])
    assert _directory_facts(other_store) == _directory_facts(hcem)
