# SPDX-License-Identifier: GPL-3.0-or-later
"""CHIRP CSV in and out of the channel library: frequencies, duplex and offset, tones."""
import csv
import json
from pathlib import Path

import pytest

from fieldcoord.cli import main
from fieldcoord.core.errors import ValidationError
from fieldcoord.interop.runner import run_export, run_import
from fieldcoord.store import Store

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "radio" / "chirp"
FILES = sorted(CORPUS.glob("*.csv"))
needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason=f"no CHIRP corpus at {CORPUS}")
HEAD = "Location,Name,Frequency,Duplex,Offset,Tone,rToneFreq,cToneFreq,DtcsCode,DtcsPolarity," \
       "RxDtcsCode,CrossMode,Mode,TStep,Skip,Comment\n"


@pytest.fixture
def store(tmp_path):
    s = Store.create(tmp_path / "t.db", "Harbor County Emergency Management", "HCEM")
    yield s
    s.close()


def _channels(store):
    return sorted((c.values["name"], c.values["rx_freq"], c.values["tx_freq"],
                   c.values["rx_tone"], c.values["tx_tone"], c.values["mode"],
                   c.values["remarks"]) for c in store.list("channel"))


def _by_name(store):
    return {c.values["name"]: c.values for c in store.list("channel")}


def _rows(path):
    with open(path, newline="", encoding="utf-8-sig") as f:
        return list(csv.DictReader(f))


@needs_corpus
@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_corpus_file_imports_and_round_trips(store, tmp_path, path):
    report = run_import(store, "chirp", [path])
    assert report.added["channel"] > 0 and not report.skipped
    again = run_import(store, "chirp", [path])
    assert not again.added and not again.updated
    out = tmp_path / "out.csv"
    written = run_export(store, "chirp", out, {})
    assert written.written["channel"] == store.count("channel")
    other = Store.create(tmp_path / "other.db", "Other", "OTH")
    run_import(other, "chirp", [out])
    assert _channels(other) == _channels(store)
    if "Frequency" in _rows(path)[0]:
        # every memory's receive and transmit frequency survives
        def pairs(rows):
            out = []
            for r in rows:
                rx, off = float(r["Frequency"]), float(r["Offset"] or 0)
                tx = {"": rx, "+": rx + off, "-": rx - off, "split": off}.get(r["Duplex"])
                out.append((round(rx, 6), None if tx is None else round(tx, 6)))
            return set(out)
        assert pairs(_rows(path)) == pairs(_rows(out))


@needs_corpus
def test_generic_csv_tones_and_offsets(store):
    run_import(store, "chirp", [CORPUS / "Generic_CSV-test-image.csv"])
    ch = _by_name(store)
    # DTCS 032 both ways, + 5 MHz
    assert (ch["H-TAC1"]["rx_freq"], ch["H-TAC1"]["tx_freq"]) == (443.1, 448.1)
    assert ch["H-TAC1"]["tx_tone"] == ch["H-TAC1"]["rx_tone"] == "D032"
    # Tone: 123.0 on transmit, carrier squelch receive, - 600 kHz
    assert (ch["ARC"]["tx_freq"], ch["ARC"]["tx_tone"], ch["ARC"]["rx_tone"]) == \
        (146.38, "123.0", "CSQ")
    # TSQL uses the cToneFreq (156.7), not rToneFreq (88.5)
    assert ch["ICALL"]["tx_tone"] == ch["ICALL"]["rx_tone"] == "156.7"
    assert ch["ICALL"]["tx_freq"] == ch["ICALL"]["rx_freq"] == 851.0125
    assert ch["ICALL"]["mode"] == "analog"


@needs_corpus
def test_rt_systems_files_are_read_too(store):
    report = run_import(store, "chirp", [CORPUS / "rtcsv_ftm400.csv"])
    assert report.added["channel"] == 11
    poway = _by_name(store)["Poway, M"]
    assert (poway["rx_freq"], poway["tx_freq"], poway["tx_tone"]) == (145.18, 144.58, "107.2")


def test_export_writes_each_tone_mode(store, tmp_path):
    add = lambda **v: store.add("channel", v)  # noqa: E731
    add(name="SIMPLEX", rx_freq=155.7525, tx_freq=155.7525)
    add(name="ENC ONLY", rx_freq=146.94, tx_freq=146.34, tx_tone="100.0", rx_tone="CSQ")
    add(name="TSQL", rx_freq=453.1, tx_freq=458.1, tx_tone="131.8", rx_tone="131.8")
    add(name="DCS INV", rx_freq=462.55, tx_freq=467.55, tx_tone="D411I", rx_tone="D411I")
    add(name="CROSS", rx_freq=154.1, tx_freq=154.1, tx_tone="156.7", rx_tone="D023")
    add(name="SPLIT", rx_freq=851.0125, tx_freq=155.7525)
    add(name="RX ONLY", rx_freq=162.55)
    add(name="P25", rx_freq=769.24375, tx_freq=799.24375, tx_tone="$293", rx_tone="$293",
        mode="digital", remarks="Mutual aid [P25]")
    out = tmp_path / "c.csv"
    report = run_export(store, "chirp", out, {})
    rows = {r["Name"]: r for r in _rows(out)}
    assert list(_rows(out)[0])[:6] == ["Location", "Name", "Frequency", "Duplex", "Offset",
                                        "Tone"]
    assert out.read_bytes().count(b"\r\n") == 9
    assert (rows["SIMPLEX"]["Duplex"], rows["SIMPLEX"]["Tone"]) == ("", "")
    assert (rows["ENC ONLY"]["Duplex"], rows["ENC ONLY"]["Offset"], rows["ENC ONLY"]["Tone"],
            rows["ENC ONLY"]["rToneFreq"]) == ("-", "0.600000", "Tone", "100.0")
    assert (rows["TSQL"]["Duplex"], rows["TSQL"]["Tone"], rows["TSQL"]["cToneFreq"]) == \
        ("+", "TSQL", "131.8")
    assert (rows["DCS INV"]["Tone"], rows["DCS INV"]["DtcsCode"],
            rows["DCS INV"]["DtcsPolarity"]) == ("DTCS", "411", "RR")
    assert (rows["CROSS"]["Tone"], rows["CROSS"]["CrossMode"], rows["CROSS"]["rToneFreq"],
            rows["CROSS"]["RxDtcsCode"]) == ("Cross", "Tone->DTCS", "156.7", "023")
    assert (rows["SPLIT"]["Duplex"], rows["SPLIT"]["Offset"]) == ("split", "155.752500")
    assert rows["RX ONLY"]["Duplex"] == "off"
    assert (rows["P25"]["Mode"], rows["P25"]["Comment"], rows["P25"]["Tone"]) == \
        ("P25", "Mutual aid", "")
    assert any("NAC" in n for n in report.notes)
    # and back: everything CHIRP can hold comes back as it was
    other = Store.create(tmp_path / "o.db", "Other", "OTH")
    run_import(other, "chirp", [out])
    mine, theirs = _by_name(store), _by_name(other)
    for name in mine:
        for field in ("rx_freq", "tx_freq", "mode"):
            assert theirs[name][field] == mine[name][field], (name, field)
        if name != "P25":
            for field in ("tx_tone", "rx_tone"):
                assert (theirs[name][field] or "CSQ") == (mine[name][field] or "CSQ"), name


def test_bad_rows_are_skipped_and_bad_files_refused(store, tmp_path):
    src = tmp_path / "mixed.csv"
    src.write_text(HEAD + "1,GOOD,146.520000,,0,,88.5,88.5,023,NN,023,Tone->Tone,FM,5.00,,\n"
                   "2,BADF,abc,,0,,88.5,88.5,023,NN,023,Tone->Tone,FM,5.00,,\n"
                   "3,BADD,146.52,x,0,,88.5,88.5,023,NN,023,Tone->Tone,FM,5.00,,\n"
                   "4,,,,,,,,,,,,,,,\n", encoding="utf-8")
    report = run_import(store, "chirp", [src])
    assert report.added["channel"] == 1
    assert [(p.line, p.reason.split(" ")[0]) for p in report.skipped] == [(3, "a"),
                                                                           (4, "Duplex")]
    before = store.dump()
    notchirp = tmp_path / "contacts.csv"
    notchirp.write_text("First Name,Last Name,E-mail Address\nAna,Ruiz,ana@example.org\n")
    with pytest.raises(ValidationError, match="contacts.csv: not a CHIRP CSV"):
        run_import(store, "chirp", [notchirp])
    assert store.dump() == before


def test_duplicate_memories_with_different_tones_stay_two_channels(store, tmp_path):
    src = tmp_path / "twice.csv"
    src.write_text(HEAD + "1,RPT,147.000000,+,0.6,Tone,100.0,88.5,023,NN,023,Tone->Tone,FM,5,,\n"
                   "2,RPT,147.000000,+,0.6,Tone,123.0,88.5,023,NN,023,Tone->Tone,FM,5,,\n")
    assert run_import(store, "chirp", [src]).added["channel"] == 2
    again = run_import(store, "chirp", [src])
    assert again.unchanged["channel"] == 2 and not again.updated and not again.added


def test_cli_import_export_with_agency_and_json(tmp_path, capsys):
    db = tmp_path / "cli.db"
    assert main(["--db", str(db), "init", "--agency", "Harbor County EM", "--code",
                 "HCEM"]) == 0
    capsys.readouterr()
    src = tmp_path / "in.csv"
    src.write_text(HEAD + "1,HC TAC,154.385000,,0,TSQL,88.5,131.8,023,NN,023,Tone->Tone,NFM,"
                   "12.5,,Fire tactical\n")
    assert main(["--db", str(db), "--json", "import", "chirp", str(src), "--dry-run"]) == 0
    dry = json.loads(capsys.readouterr().out)
    assert dry["dry_run"] and dry["added"] == {"channel": 1}
    assert main(["--db", str(db), "--json", "list", "channel"]) == 0
    assert json.loads(capsys.readouterr().out) == []          # a dry run writes nothing
    assert main(["--db", str(db), "--json", "import", "chirp", str(src), "--agency",
                 "HCEM"]) == 0
    assert json.loads(capsys.readouterr().out)["added"] == {"channel": 1}
    out = tmp_path / "out.csv"
    assert main(["--db", str(db), "--json", "export", "chirp", str(out), "--agency",
                 "HCEM"]) == 0
    assert json.loads(capsys.readouterr().out)["written"] == {"channel": 1}
    row = _rows(out)[0]
    assert (row["Name"], row["Tone"], row["cToneFreq"], row["Mode"], row["Comment"]) == \
        ("HC TAC", "TSQL", "131.8", "NFM", "Fire tactical")


# ------------------------------------------------------------------ tuning steps, short names

def _add_library(store, *names):
    from fieldcoord.core.library import find_channel, load_nifog_channels
    chosen = [find_channel(n) for n in names] if names else load_nifog_channels()
    for ch in chosen:
        store.add("channel", {"name": ch.name, "rx_freq": ch.rx_freq, "tx_freq": ch.tx_freq,
                              "rx_tone": ch.rx_tone, "tx_tone": ch.tx_tone, "mode": ch.mode})


def test_tuning_step_is_the_one_chirp_picks(store, tmp_path):
    # CHIRP tries 5, 10, 12.5, 6.25, 2.5, 1, 0.5, 8.33, 0.25 kHz: a Yaesu FT-60 has no 6.25 kHz
    # step and refused 8CALL90, 8TAC91 and VTAC11 written with one (issue 15, item 8)
    _add_library(store, "8CALL90", "8TAC91", "VTAC11")
    store.add("channel", {"name": "2M CALL", "rx_freq": 146.52, "tx_freq": 146.52})
    store.add("channel", {"name": "NXDN 1", "rx_freq": 451.00625, "tx_freq": 451.00625})
    store.add("channel", {"name": "APP 8.33", "rx_freq": 118.00833})
    out = tmp_path / "steps.csv"
    run_export(store, "chirp", out, {})
    steps = {r["Name"]: r["TStep"] for r in _rows(out)}
    assert steps == {"8CALL90": "12.50", "8TAC91": "12.50", "VTAC11": "12.50",
                     "2M CALL": "5.00", "NXDN 1": "6.25", "APP 8.33": "8.33"}


@needs_corpus
def test_national_channels_keep_the_step_chirp_wrote(store, tmp_path):
    src = CORPUS / "Generic_CSV-test-image.csv"
    run_import(store, "chirp", [src])
    out = tmp_path / "out.csv"
    run_export(store, "chirp", out, {})
    theirs = {r["Name"]: r["TStep"] for r in _rows(src)}
    mine = {r["Name"]: r["TStep"] for r in _rows(out)}
    for name in ("ICALL", "ITAC1", "ITAC2", "ITAC3", "ITAC4", "VTAC11"):   # 851.0125 ...
        assert theirs[name] == mine[name] == "12.50", name


@pytest.mark.parametrize("length", [6, 7, 8])
def test_short_names_fit_the_display_and_are_unique(store, tmp_path, length):
    _add_library(store)
    for name, rx in (("HC FIRE DISPATCH", 154.085), ("HC FIRE TAC 2", 154.385),
                     ("HC LAW TAC 3", 155.55), ("Harbor Mutual Aid", 453.2),
                     ("消防指令", 460.575)):           # nothing a radio shows: its frequency
        store.add("channel", {"name": name, "rx_freq": rx, "tx_freq": rx,
                              "remarks": "Fictional demo frequency"})
    out = tmp_path / "short.csv"
    report = run_export(store, "chirp", out, {"name_length": str(length)})
    rows = _rows(out)
    names = [r["Name"] for r in rows]
    assert len(rows) == store.count("channel")
    assert all(0 < len(n) <= length for n in names), names
    assert len({n.casefold() for n in names}) == len(names), names
    by_comment = {r["Comment"].split(":")[0]: r for r in rows}
    # the two that both became "HC FIRE" are told apart; the full name leads the comment
    fire = by_comment["HC FIRE DISPATCH"]["Name"], by_comment["HC FIRE TAC 2"]["Name"]
    assert fire[0] != fire[1] and all(f.startswith("H") for f in fire)
    assert by_comment["HC FIRE TAC 2"]["Comment"] == "HC FIRE TAC 2: Fictional demo frequency"
    # names that fit stay as they are, with their comment
    kept = {r["Name"]: r for r in rows if len(r["Name"]) <= length}
    assert "VTAC11" in names and kept["VTAC11"]["Comment"] == ""
    assert any(f"shortened to {length} characters" in n for n in report.notes)


def test_short_names_read_like_the_full_ones():
    from fieldcoord.interop.chirp import short_name
    assert short_name("HC FIRE TAC 2", 7) == "HCFRTC2"
    assert short_name("HC FIRE DISPATCH", 7) == "HCFRDSP"
    assert short_name("8CALL90", 6) == "8CLL90"
    assert short_name("8TAC91D", 6) == "8TC91D"
    assert short_name("VTAC11", 6) == "VTAC11"
    assert short_name("Poway, M", 7) == "Poway M"
    assert short_name("Übungskanal", 8) == "Ubngsknl"


def test_channels_with_the_same_short_name_get_a_digit(store, tmp_path):
    src = tmp_path / "twice.csv"
    src.write_text(HEAD + "1,RPT,147.000000,+,0.6,Tone,100.0,88.5,023,NN,023,Tone->Tone,FM,5,,\n"
                   "2,RPT,147.000000,+,0.6,Tone,123.0,88.5,023,NN,023,Tone->Tone,FM,5,,\n"
                   "3,VTAC11,151.137500,,0,TSQL,88.5,156.7,023,NN,023,Tone->Tone,FM,12.5,,\n"
                   "4,VTAC11,151.137500,,0,TSQL,88.5,136.5,023,NN,023,Tone->Tone,FM,12.5,,\n")
    run_import(store, "chirp", [src])
    out = tmp_path / "out.csv"
    run_export(store, "chirp", out, {"name_length": 6})
    assert sorted(r["Name"] for r in _rows(out)) == ["RPT", "RPT2", "VT11-2", "VTAC11"]


def test_a_bad_name_length_is_refused_and_nothing_written(store, tmp_path, capsys):
    _add_library(store, "8CALL90")
    out = tmp_path / "bad.csv"
    for bad, problem in (("six", "not a whole number"), ("6.5", "not a whole number"),
                         (True, "not a whole number"), ("-1", "not a whole number"),
                         ("4", "out of range"), (17, "out of range")):
        with pytest.raises(ValidationError, match=problem):
            run_export(store, "chirp", out, {"name_length": bad})
        assert not out.exists()


def test_cli_name_length(tmp_path, capsys):
    db = tmp_path / "cli.db"
    assert main(["--db", str(db), "init", "--agency", "Harbor County EM", "--code",
                 "HCEM"]) == 0
    src = tmp_path / "in.csv"
    src.write_text(HEAD + "1,HC FIRE DISPATCH,154.085000,-,0.165,TSQL,88.5,131.8,023,NN,023,"
                   "Tone->Tone,FM,5,,\n2,HC FIRE TAC 2,154.385000,,0,TSQL,88.5,131.8,023,NN,"
                   "023,Tone->Tone,FM,5,,\n")
    assert main(["--db", str(db), "import", "chirp", str(src)]) == 0
    capsys.readouterr()
    out = tmp_path / "out.csv"
    assert main(["--db", str(db), "export", "chirp", str(out), "--name-length", "7"]) == 0
    assert sorted(r["Name"] for r in _rows(out)) == ["HCFRDSP", "HCFRTC2"]
    assert main(["--db", str(db), "export", "chirp", str(tmp_path / "x.csv"),
                 "--name-length", "six"]) == 2
    assert "error: name length 'six' is not a whole number" in capsys.readouterr().err
    assert not (tmp_path / "x.csv").exists()
