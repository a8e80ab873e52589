# SPDX-License-Identifier: GPL-3.0-or-later
"""Bundles and receipts edited by hand, as a carrier or a partner who lies would."""
import hashlib
import json

import pytest

from fieldcoord.core.errors import ValidationError
from fieldcoord.store import identity
from fieldcoord.sync import bundle, protocol
from fieldcoord.sync.bundle import export_bundle, import_bundle, remember_receipt

from region import Region


@pytest.fixture
def agencies(tmp_path):
    region = Region()
    ccf = region.make(tmp_path / "ccf.db", "CCF", device="ccf-hub")
    mpd = region.make(tmp_path / "mpd.db", "MPD", device="mpd-laptop")
    ccf.add("agency", {"name": "Metro Police Department", "code": "MPD"})
    yield ccf, mpd
    for s in region.replicas:
        s.close()


def _chunks(path):
    """(header lines, [(batch message)], trailer) of a bundle file."""
    raw = path.read_bytes()
    magic, rest = raw.split(b"\n", 1)
    header, rest = rest.split(b"\n", 1)
    chunks = []
    while rest.startswith(b"CHUNK "):
        line, rest = rest.split(b"\n", 1)
        size = int(line.split()[1])
        chunks.append(protocol.unpack(rest[:size]))
        rest = rest[size + 1:]
    return magic + b"\n" + header + b"\n", chunks, rest


def _write(path, head, chunks, tail):
    out = bytearray(head)
    for message in chunks:
        data = protocol.pack({k: v for k, v in message.items() if k not in ("protocol",
                                                                              "schema")})
        out += f"CHUNK {len(data)} {hashlib.sha256(data).hexdigest()}\n".encode() + data + b"\n"
    out += tail
    path.write_bytes(bytes(out))


def test_a_chunk_altered_with_its_checksum_recomputed_is_refused(agencies, tmp_path):
    ccf, mpd = agencies
    cid = ccf.add("contact", {"name": "Dana Whitfield", "agency": "CCF", "title": "Captain"})
    f = tmp_path / "to-mpd.fcb"
    export_bundle(ccf, f, "MPD")
    head, chunks, tail = _chunks(f)
    batch = chunks[0]
    i = batch["field"].index(next(x for x in batch["field"] if "title" in x))
    batch["value"][i][batch["field"][i].index("title")] = "Traitor"
    _write(f, head, chunks, tail)
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
    head, chunks, tail = _chunks(f)
    # re-label MPD's changes as CCF's: the certificate and the origin claim CCF's hub
    ccf_site = ccf.site_uuid
    for s in chunks[0]["sites"]:
        if s[0] == mpd_hub_site:
            s[0], s[1] = ccf_site, "CCF"
    _write(f, head, chunks, tail)
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
