# SPDX-License-Identifier: GPL-3.0-or-later
"""The command-line contract: commands, --json, exit statuses, stable dumps."""
import json
import shutil
import subprocess
import sys

import pytest


class CLI:
    def __init__(self, db):
        self.db = db

    def __call__(self, *args, json_out=False, code=0):
        cmd = [sys.executable, "-m", "fieldcoord", "--db", str(self.db)]
        if json_out:
            cmd.append("--json")
        r = subprocess.run(cmd + [str(a) for a in args], capture_output=True, text=True,
                           timeout=120)
        assert r.returncode == code, f"{args}: exit {r.returncode}\n{r.stdout}\n{r.stderr}"
        if code == 2:
            lines = r.stderr.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("error: "), r.stderr
            assert "Traceback" not in r.stderr
        return json.loads(r.stdout) if json_out and code == 0 else r


@pytest.fixture
def cli(tmp_path):
    c = CLI(tmp_path / "x.db")
    c("init", "--agency", "Clark County Fire", "--code", "CCF")
    return c


def test_the_liaison_round_trip(cli, tmp_path):
    aid = cli("add", "agency", "name=Metro Police Départment", "code=MPD", "level=local",
              "discipline=law enforcement").stdout.strip()
    cid = cli("add", "contact", "name=José Núñez", "agency=MPD", "title=Watch Commander",
              "phone=(202) 555-0142", "mobile=+1 360 555 0117", "email=jose.nunez@mpd.example",
              "call_sign=METRO 12").stdout.strip()
    assert len(cid) == 36 and len(aid) == 36
    for query in ("jos", "Núñ", "nunez", "555 0142", "2025550142", "jose.nunez@mpd",
                  "metro 12"):
        hits = cli("search", query, "--kind", "contact", json_out=True)
        assert hits and hits[0]["id"] == cid, query
    shown = cli("show", cid, json_out=True)
    assert shown["name"] == "José Núñez" and shown["owner"] == "CCF"
    phones = sorted(m["value"] for m in shown["related"]["contact methods"])
    assert phones == ["+12025550142", "+13605550117", "METRO 12", "jose.nunez@mpd.example"]
    assert "José Núñez" in cli("show", cid).stdout

    edited = cli("edit", cid, "title=Lieutenant", json_out=True)
    assert edited["title"] == "Lieutenant"
    assert cli("delete", cid, json_out=True)["deleted"] is True
    assert cli("search", "nunez", "--kind", "contact", json_out=True) == []
    assert cli("list", "contact", json_out=True) == []
    assert [r["id"] for r in cli("list", "contact", "--deleted", json_out=True)] == [cid]
    assert cli("restore", cid, json_out=True)["deleted"] is False
    assert cli("list", "contact", "--where", "agency=MPD",
               json_out=True)[0]["title"] == "Lieutenant"
    assert cli("list", "contact", "--where", "agency=CCF", json_out=True) == []


def test_dump_is_byte_stable_and_equal_for_a_copy(cli, tmp_path):
    cli("add", "agency", "name=Metro PD", "code=MPD")
    cli("add", "contact", "name=Zoë", "agency=MPD", "phone=360 555 0100")
    first = cli("dump").stdout
    assert cli("dump").stdout == first
    json.loads(first)
    copy = tmp_path / "copy.db"
    shutil.copy(cli.db, copy)
    for suffix in ("-wal", "-shm"):
        src = cli.db.with_name(cli.db.name + suffix)
        if src.exists():
            shutil.copy(src, copy.with_name(copy.name + suffix))
    assert CLI(copy)("dump").stdout == first
    for volatile in ("created_at", "updated_at", "device", "_ver", "_cl"):
        assert volatile not in first


@pytest.mark.parametrize("args", [
    ("add", "contact", "name="),
    ("add", "contact", "name=A", "agency=NOPE"),
    ("add", "contact", "name=A", "email=not-an-email"),
    ("add", "contact", "nonsense"),
    ("add", "spaceship", "name=A"),
    ("add", "agency", "name=Dup", "code=CCF"),
    ("edit", "0190b8a4-0000-7000-8000-000000000000", "name=x"),
    ("delete", "not-an-id"),
    ("list", "contact", "--where", "colour=red"),
    ("search", "x", "--kind", "party"),
    ("frobnicate",),
    ("add",),
])
def test_bad_input_exits_2_and_writes_nothing(cli, args):
    before = cli("dump").stdout
    cli(*args, code=2)
    assert cli("dump").stdout == before


def test_uninitialised_and_double_init(tmp_path):
    fresh = CLI(tmp_path / "none.db")
    r = fresh("list", "agency", code=2)
    assert "fieldcoord init" in r.stderr
    assert not (tmp_path / "none.db").exists()
    fresh("init", "--agency", "Metro PD", "--code", "MPD")
    fresh("init", "--agency", "Other", "--code", "OTH", code=2)
    assert fresh("list", "agency", json_out=True)[0]["code"] == "MPD"


def test_environment_variable_names_the_database(tmp_path):
    env = {"FIELDCOORD_DB": str(tmp_path / "env.db"), "PATH": ""}
    r = subprocess.run([sys.executable, "-m", "fieldcoord", "init", "--agency", "Harbor EM",
                        "--code", "HCEM"], capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "env.db").exists()


def test_every_kind_can_be_added_from_the_command_line(cli):
    op = cli("add", "operation", "name=River Flood TF", "kind=task force", "lead_agency=CCF",
             "start=2026-11-20 06:00").stdout.strip()
    ch = cli("add", "channel", "name=VTAC11", "function=tactical", "rx_freq=151.1375",
             "tx_freq=151.1375", "rx_tone=156.7", "tx_tone=156.7").stdout.strip()
    cli("add", "comms", f"operation={op}", f"channel={ch}", "zone=A", "number=1",
        "assignment=Division A tactical")
    cli("add", "member", f"operation={op}", "agency=CCF", "role=Lead",
        "activation_status=active")
    res = cli("add", "resource", "name=Engine 51", "agency=CCF", "type_id=4-508-1278",
              "type_level=1").stdout.strip()
    cli("add", "request", "requesting_agency=CCF", f"operation={op}",
        "description=Engine strike team", "priority=urgent", "needed_by=2026-11-21 08:00",
        f"committed_resources={res}")
    ag = cli("add", "agreement", "title=County Mutual Aid", "kind=mutual aid",
             "effective_date=2025-01-01", "expiry_date=2027-12-31").stdout.strip()
    cli("add", "party", f"agreement={ag}", "agency=CCF", "signatory=Chief Ortiz")
    plan = cli("add", "plan", "name=Flood Response Plan", "hazard=Riverine flood").stdout.strip()
    cli("add", "role", f"plan={plan}", "agency=CCF", "function=lead")
    ev = cli("add", "event", "title=Flood TTX", "kind=tabletop",
             "start=2026-12-03 09:00").stdout.strip()
    cli("add", "participant", f"event={ev}", "agency=CCF")
    cli("add", "action", f"event={ev}", "text=Pre-stage sandbags", "due_date=2027-01-15")
    cli("add", "log", f"operation={op}", "author=Liaison", "text=Levee breach reported")
    dump = json.loads(cli("dump").stdout)
    for kind in ("operation", "channel", "comms", "member", "resource", "request", "agreement",
                 "party", "plan", "role", "event", "participant", "action", "log"):
        assert len(dump[kind]) == 1, kind
    assert dump["log"][0]["recorded_at"] and dump["request"][0]["committed_resources"] == [res]
    text = cli("show", op).stdout
    assert "Division A tactical" in text and "Levee breach" in text


def test_output_cut_short_by_its_reader_ends_quietly(cli, tmp_path):
    # `fieldcoord list contact | head -1`: more than a pipe holds, the reader leaves early
    rows = "".join(f"Person {i:05d} Longname,Deputy Coordinator of Things {i},p{i}@x.example\n"
                   for i in range(2000))
    (tmp_path / "many.csv").write_text("name,title,email\n" + rows, encoding="utf-8")
    cli("import", "csv", tmp_path / "many.csv", "--kind", "contact")
    for args in (("list", "contact"), ("--json", "list", "contact"), ("dump",)):
        p = subprocess.Popen([sys.executable, "-m", "fieldcoord", "--db", str(cli.db), *args],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert p.stdout.readline()
        p.stdout.close()
        err = p.stderr.read().decode()
        assert p.wait(timeout=120) == 0, err
        assert err == "", err


def test_an_import_that_skips_every_record_is_bad_input(cli, tmp_path):
    empty = tmp_path / "empty.vcf"
    empty.write_text("BEGIN:VCARD\r\nVERSION:3.0\r\nEND:VCARD\r\n"
                     "BEGIN:VCARD\r\nVERSION:3.0\r\nNOTE:nobody\r\nEND:VCARD\r\n")
    before = cli("dump").stdout
    r = cli("import", "vcard", empty, code=2)
    assert "nothing imported: all 2 records were skipped" in r.stderr
    assert f"{empty}:1" in r.stderr and "skipped 2" in r.stdout
    assert cli("dump").stdout == before
    # one good card among them: imported, exit 0
    good = tmp_path / "good.vcf"
    good.write_text("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ana Lima\r\nEND:VCARD\r\n")
    cli("import", "vcard", empty, good)


@pytest.mark.parametrize("fmt", ["vcard", "ical", "csv"])
def test_a_file_of_another_format_is_bad_input_for_every_importer(cli, tmp_path, fmt):
    notes = tmp_path / "notes.txt"
    notes.write_text("just some text\n")
    cli("import", fmt, notes, code=2)


def test_facilities_from_the_command_line(cli):
    fid = cli("add", "facility", "name=Grange Hall Shelter", "kind=Shelter", "agency=CCF",
              "capacity=80", "phone=360 555 0149").stdout.strip()
    line = cli("list", "shelters").stdout.strip()
    assert line.startswith("Grange Hall Shelter  shelter  CCF  open  80") and line.endswith(fid)
    assert "phone      +1 360-555-0149" in cli("show", fid).stdout, "shown as lines are"
    ccf = cli("list", "agency", json_out=True)[0]["id"]
    agency = cli("show", ccf, json_out=True)
    assert [r["id"] for r in agency["related"]["facilities"]] == [fid]
    hits = cli("search", "0149", "--kind", "facility", json_out=True)
    assert [h["id"] for h in hits] == [fid]
    cli("add", "facility", "name=Annex", "kind=castle", "agency=CCF", code=2)
    fields = cli("fields", "facility", json_out=True)
    assert [f["field"] for f in fields[0]["fields"]][:3] == ["name", "kind", "agency"]


def test_alerts_on_the_demo_list_the_agreements_past_review(tmp_path):
    cli = CLI(tmp_path / "demo.db")
    cli("demo")
    got = cli("alerts", "--level", "overdue", json_out=True)
    past = [a["title"] for a in got if a["kind"] == "agreement_review"]
    assert "Harbor County Fire and EMS Mutual Aid Agreement is past its review date" in past
    assert all(a["level"] == "overdue" for a in got)
    text = cli("alerts").stdout
    assert "24/7 line" in text and "Urgent request" in text
    cli("alerts", "--set", "stale_days=3651", code=2)
    cli("alerts", "--set", "agreement_days=120,60", "--level", "soon")
    assert cli("--json", "alerts") is not None


def test_a_comms_plan_row_takes_a_national_channel_by_name(cli):
    op = cli("add", "operation", "name=Flood TF").stdout.strip()
    first = cli("add", "comms", f"operation={op}", "channel=nifog:VTAC11", "number=1",
                json_out=True)
    again = cli("add", "comms", f"operation={op}", "channel=nifog:vtac11", "number=2",
                json_out=True)
    assert first["channel"] == again["channel"], "one channel record, used twice"
    channels = cli("list", "channel", json_out=True)
    assert [(c["name"], c["rx_freq"], c["rx_tone"]) for c in channels] == \
        [("VTAC11", 151.1375, "156.7")]
    cli("add", "comms", f"operation={op}", "channel=nifog:NOPE", code=2)


def test_a_request_moves_only_along_its_workflow(cli):
    rid = cli("add", "request", "requesting_agency=CCF", "description=Rescue boat").stdout.strip()
    r = cli("edit", rid, "status=returned", code=2)
    assert "is requested and cannot go to returned" in r.stderr
    assert "It may go on to: acknowledged, cancelled, unable to fill" in r.stderr
    cli("edit", rid, "status=acknowledged")
    cli("edit", rid, "status=committed", "supplying_agency=CCF")
    shown = cli("show", rid).stdout
    assert "history:" in shown
    lines = [ln for ln in shown.splitlines() if "->" in ln or "recorded as" in ln]
    assert ["recorded as requested" in lines[0], "requested -> acknowledged" in lines[1],
            "acknowledged -> committed" in lines[2]] == [True, True, True]
    assert "CCF" in lines[2]
    data = cli("show", rid, json_out=True)
    assert [s["status"] for s in data["history"]] == ["requested", "acknowledged", "committed"]
    assert data["number"].startswith("CCF-")


def test_the_kinds_listed_in_the_cli_guide_are_those_of_fieldcoord_fields(cli):
    from pathlib import Path
    guide = (Path(__file__).parents[2] / "docs" / "cli.md").read_text(encoding="utf-8")
    assert cli("fields").stdout in guide


def test_the_command_line_says_it_brings_a_database_of_an_earlier_version_up_to_date(cli):
    from oldversions import as_version_21

    from fieldcoord.store.migrations import pending
    rid = cli("add", "contact", "name=Dana Whitfield", "agency=CCF").stdout.strip()
    as_version_21(cli.db)
    r = cli("search", "whitfield")
    assert "updating" in r.stderr and "(3 steps)" in r.stderr
    assert rid in r.stdout
    assert pending(cli.db) == []
    assert "updating" not in cli("search", "whitfield").stderr
