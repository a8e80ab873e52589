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
