# SPDX-License-Identifier: GPL-3.0-or-later
"""Bundles and receipts edited by hand, as a carrier or a partner who lies would."""
import hashlib
import json

import pytest
from region import Region

from fieldcoord.core.errors import ValidationError
from fieldcoord.store import identity, trust
from fieldcoord.sync import bundle, protocol
from fieldcoord.sync.bundle import export_bundle, import_bundle, remember_receipt


@pytest.fixture
def agencies(tmp_path):
    region = Region()
    ccf = region.make(tmp_path / "ccf.db", "CCF", device="ccf-hub")
    mpd = region.make(tmp_path / "mpd.db", "MPD", device="mpd-laptop")
    ccf.add("agency", {"name": "Metro Police Department", "code": "MPD"})
    yield ccf, mpd
    for s in region.replicas:
        s.close()


def _chunks(path, reader):
    """(header lines, [(batch message)], trailer, the file's key) of a bundle file, opened
    with the keys of `reader` (someone the bundle was sealed for, turned forger)."""
    raw = path.read_bytes()
    magic, rest = raw.split(b"\n", 1)
    header, rest = rest.split(b"\n", 1)
    key = bundle._open(reader, json.loads(header))
    box = trust.secret_box(key)
    chunks = []
    while rest.startswith(b"CHUNK "):
        line, rest = rest.split(b"\n", 1)
        size = int(line.split()[1])
        chunks.append(protocol.unpack(box.decrypt(rest[:size])))
        rest = rest[size + 1:]
    return magic + b"\n" + header + b"\n", chunks, rest, key


def _write(path, head, chunks, tail, key):
    out = bytearray(head)
    box = trust.secret_box(key)
    for message in chunks:
        data = box.encrypt(protocol.pack({k: v for k, v in message.items()
                                          if k not in ("protocol", "schema")}))
        out += f"CHUNK {len(data)} {hashlib.sha256(data).hexdigest()}\n".encode() + data + b"\n"
    out += tail
    path.write_bytes(bytes(out))


def test_a_chunk_altered_with_its_checksum_recomputed_is_refused(agencies, tmp_path):
    ccf, mpd = agencies
    cid = ccf.add("contact", {"name": "Dana Whitfield", "agency": "CCF", "title": "Captain"})
    f = tmp_path / "to-mpd.fcb"
    export_bundle(ccf, f, "MPD")
    head, chunks, tail, key = _chunks(f, mpd)
    batch = chunks[0]
    i = batch["field"].index(next(x for x in batch["field"] if "title" in x))
    batch["value"][i][batch["field"][i].index("title")] = "Traitor"
    _write(f, head, chunks, tail, key)
    result = import_bundle(mpd, f)
    assert result.report.tampered and result.report.applied == 0
    assert "Traitor" not in mpd.dump() and "Dana" not in mpd.dump()
    # the genuine file still imports afterwards
    export_bundle(ccf, f, "MPD", since={})
    assert import_bundle(mpd, f).report.applied > 0
    assert mpd.get(cid).values["title"] == "Captain"


def test_a_chunk_written_as_another_agency_is_not_genuine(agencies, tmp_path):
    ccf, mpd = agencies
    mpd_hub_site = mpd.site_uuid
    f = tmp_path / "from-mpd.fcb"
    mpd.add("agency", {"name": "Clark County Fire", "code": "CCF"})
    mpd.add("contact", {"name": "Sam Ortiz", "agency": "MPD"})
    export_bundle(mpd, f, "CCF")
    head, chunks, tail, key = _chunks(f, ccf)
    # re-label MPD's changes as CCF's: the certificate and the origin claim CCF's hub
    ccf_site = ccf.site_uuid
    for s in chunks[0]["sites"]:
        if s[0] == mpd_hub_site:
            s[0], s[1] = ccf_site, "CCF"
    _write(f, head, chunks, tail, key)
    result = import_bundle(ccf, f)
    assert result.report.applied == 0
    assert "Sam Ortiz" not in ccf.dump()


def test_an_unsigned_or_inflated_receipt_cannot_stop_later_bundles(agencies, tmp_path):
    ccf, mpd = agencies
    ccf.add("contact", {"name": "Dana Whitfield", "agency": "CCF"})
    f = tmp_path / "to-mpd.fcb"
    export_bundle(ccf, f, "MPD")
    receipt = import_bundle(mpd, f).receipt
    data = json.loads(receipt.read_text())
    # a receipt typed by hand: huge numbers, no signature
    forged = tmp_path / "forged.receipt.json"
    forged.write_text(json.dumps({**{k: v for k, v in data.items() if k != "sig"},
                                  "vector": [[o, a, 10 ** 9] for o, a, _ in data["vector"]]}))
    with pytest.raises(ValidationError, match="not signed"):
        remember_receipt(ccf, forged)
    # a genuine device of MPD signing inflated numbers: honoured only up to what was sent
    mpd.conn.execute("UPDATE stream SET seq = seq + 1000000")
    inflated = bundle.write_receipt(mpd, tmp_path / "inflated.receipt.json")
    assert remember_receipt(ccf, inflated) == "MPD"
    ccf.add("contact", {"name": "Sam Ortiz", "agency": "CCF"})
    counts = export_bundle(ccf, tmp_path / "next.fcb", "MPD")
    assert counts["changes"] >= 1


def test_a_partners_bundle_needs_its_key_confirmed(tmp_path):
    from fieldcoord.store import Store
    ccf = Store.create(tmp_path / "ccf.db", "Clark County Fire", "CCF")
    mpd = Store.create(tmp_path / "mpd.db", "Metro Police Department", "MPD")
    ccf.add("agency", {"name": "Metro Police Department", "code": "MPD"})
    ccf.add("contact", {"name": "Dana Whitfield", "agency": "CCF"})
    f = tmp_path / "to-mpd.fcb"
    with pytest.raises(ValidationError, match="nothing can be sealed"):
        export_bundle(ccf, f, "MPD")
    identity.confirm(ccf, "MPD", identity.home_key(mpd.conn, "MPD"))
    export_bundle(ccf, f, "MPD")
    with pytest.raises(identity.UntrustedKey) as e:
        import_bundle(mpd, f)
    fp = e.value.fingerprint
    assert "Dana" not in mpd.dump()
    with pytest.raises(identity.KeyChanged):
        import_bundle(mpd, f, expected="11111 " * 5 + "11111")
    assert import_bundle(mpd, f, expected=fp).report.applied > 0
    assert "Dana" in mpd.dump()
    ccf.close()
    mpd.close()


def test_a_lost_stick_exposes_nothing(agencies, tmp_path):
    ccf, mpd = agencies
    ccf.add("contact", {"name": "Dana Whitfield", "agency": "CCF", "phone": "360 555 0100",
                        "notes": "staging at the north gate"})
    f = tmp_path / "to-mpd.fcb"
    export_bundle(ccf, f, "MPD")
    raw = f.read_bytes()
    assert b"Dana" not in raw and b"north gate" not in raw and b"0100" not in raw
    # a ciphertext byte flipped, its checksum recomputed: refused as damaged, nothing applied
    head, rest = raw.split(b"\nCHUNK ", 1)
    line, data = rest.split(b"\n", 1)
    size = int(line.split()[0])
    body = bytearray(data[:size])
    body[40] ^= 1
    f.write_bytes(head + f"\nCHUNK {size} {hashlib.sha256(bytes(body)).hexdigest()}\n".encode()
                  + bytes(body) + data[size:])
    result = import_bundle(mpd, f)
    assert result.corrupted == [1] and "Dana" not in mpd.dump()
    # and a replica of a third agency cannot open it at all
    from fieldcoord.store import Store
    other = Store.create(tmp_path / "fd.db", "Fire District 6", "FD6")
    identity.confirm(other, "CCF", identity.home_key(ccf.conn, "CCF"))
    with pytest.raises(ValidationError, match="written for agency MPD"):
        import_bundle(other, tmp_path / "to-mpd.fcb")
    other.close()


def test_a_bundle_for_the_agency_opens_on_any_of_its_devices(tmp_path):
    region = Region()
    ccf = region.make(tmp_path / "ccf-hub.db", "CCF", device="ccf-hub")
    mpd_hub = region.make(tmp_path / "mpd-hub.db", "MPD", device="mpd-hub")
    mpd_laptop = region.make(tmp_path / "mpd-laptop.db", "MPD", device="mpd-laptop")
    ccf.add("agency", {"name": "Metro Police Department", "code": "MPD"})
    # CCF learned MPD's key for sealed bundles (from a sync or a receipt of MPD's)
    assert identity.take_box_statement(ccf, "MPD", identity.box_statement(mpd_hub.conn, "MPD"))
    ccf.add("contact", {"name": "Dana Whitfield", "agency": "CCF"})
    f = tmp_path / "to-mpd.fcb"
    counts = export_bundle(ccf, f, "MPD")
    assert counts["warning"] is None
    assert import_bundle(mpd_laptop, f).report.applied > 0
    assert "Dana" in mpd_laptop.dump()
    for s in region.replicas:
        s.close()
