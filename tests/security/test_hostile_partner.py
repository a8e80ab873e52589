# SPDX-License-Identifier: GPL-3.0-or-later
"""A hostile partner with one valid token of its own agency, attacking a hub with raw requests.

CCF runs a hub and a laptop; MPD is a partner whose key CCF's administrator confirmed and to
which CCF's hub issued a device token. The attacker holds MPD's device key and token: whatever it
signs is genuinely MPD's, so the hub must judge it by what MPD may do, and anything claiming to
be someone else's must fail verification.
"""
import json

import pytest
import requests
from forge import signed
from wholelog import WHOLE_LOG

from fieldcoord.hub import tokens
from fieldcoord.hub.server import start_in_thread
from fieldcoord.store import Store, identity, trust
from fieldcoord.store.exchange import Batch, outgoing, sites_of
from fieldcoord.sync import protocol
from fieldcoord.sync.engine import sync
from fieldcoord.sync.http import HttpPeer


class Region:
    def __init__(self, tmp_path):
        self.hub_path = tmp_path / "ccf-hub.db"
        hub = Store.create(self.hub_path, "Clark County Fire", "CCF", device="ccf-hub")
        hub.add("agency", {"name": "Metro Police Department", "code": "MPD"})
        self.mpd = Store.create(tmp_path / "mpd.db", "Metro Police Department", "MPD",
                                device="mpd-laptop")
        self.mpd.add("agency", {"name": "Clark County Fire", "code": "CCF"})
        identity.confirm(hub, "MPD", identity.home_key(self.mpd.conn, "MPD"))
        self.ccf_fp = identity.describe(hub)["agency_fingerprint"]
        with hub.transaction():
            _, self.laptop_token = tokens.issue(hub.conn, "CCF", "ccf-laptop")
            _, self.mpd_token = tokens.issue(hub.conn, "MPD", "mpd-laptop")
        hub.close()
        self.url, self.stop = start_in_thread(self.hub_path)
        self.laptop = Store.create(tmp_path / "laptop.db", "Clark County Fire", "CCF",
                                   device="ccf-laptop", founder=False)

    def sync_laptop(self):
        peer = HttpPeer(self.url, self.laptop_token)
        try:
            return sync(self.laptop, peer)
        finally:
            peer.close()

    def sync_mpd(self):
        peer = HttpPeer(self.url, self.mpd_token)
        peer.key_fingerprint = self.ccf_fp
        try:
            return sync(self.mpd, peer)
        finally:
            peer.close()

    def hub(self) -> Store:
        return Store.open(self.hub_path)

    def push(self, batch: Batch, sites: dict, token=None) -> requests.Response:
        body = protocol.pack({"site": self.mpd.site_uuid,
                              "batch": protocol.encode_batch(batch, sites)})
        return requests.post(self.url + "/v1/push", data=body, timeout=10, headers={
            "Authorization": f"Bearer {token or self.mpd_token}",
            "Content-Type": "application/x-fieldcoord"})


@pytest.fixture
def region(tmp_path):
    r = Region(tmp_path)
    yield r
    r.stop()
    r.laptop.close()
    r.mpd.close()


def test_a_second_site_claiming_the_owner_agency_changes_nothing(region):
    region.sync_laptop()
    cid = region.laptop.add("contact", {"name": "Dana Whitfield", "agency": "CCF",
                                        "scope": "all"})
    region.sync_laptop()
    region.sync_mpd()
    # a made-up "CCF" device: its own key, a certificate signed by a key of the attacker's
    fake_seed, fake_agency = trust.new_seed(), trust.new_seed()
    fake_site = "0192f0c0-0000-7000-8000-00000000ccf1"
    cert = trust.issue_cert(fake_agency, fake_site, "CCF", "ccf-hub", trust.public(fake_seed))
    batch = signed(region.mpd, "all", [("contact", cid, {"title": ["Forged"]})],
                   origin=fake_site, seed=fake_seed, start=(0, trust.ZERO))
    r = region.push(batch, {fake_site: ("CCF", "ccf-hub", cert),
                            region.mpd.site_uuid: ("MPD", "mpd-laptop", None)})
    assert r.status_code == 200
    answer = protocol.unpack(r.content)
    assert answer["applied"] == 0 and answer["unverified"]
    # and a site with no certificate at all may do nothing either
    bare = "0192f0c0-0000-7000-8000-00000000ccf2"
    batch = signed(region.mpd, "all", [("contact", cid, {"title": ["Forged"]})],
                   origin=bare, seed=fake_seed, start=(0, trust.ZERO))
    answer = protocol.unpack(region.push(batch, {bare: ("CCF", "x", None)}).content)
    assert answer["applied"] == 0
    with region.hub() as h:
        assert h.get(cid).values["title"] is None
        assert h.conn.execute("SELECT agency FROM site WHERE uuid IN (?, ?)",
                              (fake_site, bare)).fetchall() in ([], [(None,)], [(None,), (None,)])


def test_a_partner_cannot_recreate_a_record_it_does_not_own(region):
    region.sync_laptop()
    cid = region.laptop.add("contact", {"name": "Liaison Desk", "agency": "CCF",
                                        "scope": "CCF,MPD"})
    region.sync_laptop()
    region.sync_mpd()
    # "created" again by MPD's own genuine device: owned by MPD now, shared with everyone
    batch = signed(region.mpd, "all", [("contact", cid, {
        "name": ["Liaison Desk"], "owner": ["MPD"], "scope": ["all"], "_cl": [1]})])
    answer = protocol.unpack(region.push(batch, sites_of(region.mpd.conn, batch)).content)
    assert answer["applied"] == 0 and len(answer["refused"]) == 1
    with region.hub() as h:
        rec = h.get(cid)
        assert (rec.owner, rec.scope) == ("CCF", "CCF,MPD")
    region.sync_laptop()
    assert region.laptop.get(cid).owner == "CCF" and not region.laptop.get(cid).deleted


def test_a_partner_cannot_publish_a_private_record_knowing_its_id(region):
    region.sync_laptop()
    secret = region.laptop.add("contact", {"name": "Informant Line", "agency": "CCF",
                                           "scope": "private", "phone": "360 555 0199"})
    region.sync_laptop()
    batch = signed(region.mpd, "all", [("contact", secret, {"scope": ["all"]})])
    answer = protocol.unpack(region.push(batch, sites_of(region.mpd.conn, batch)).content)
    assert answer["applied"] == 0
    region.sync_mpd()
    assert "Informant" not in region.mpd.dump()
    with region.hub() as h:
        rows = h.conn.execute("SELECT cells FROM change ch JOIN stream t ON t.id = ch.stream "
                              "WHERE t.audience = 'all' AND ch.rid = ?", (secret,)).fetchall()
        assert all("Informant" not in c for (c,) in rows)


def test_a_forged_entry_in_a_devices_stream_cannot_erase_its_next_edit(region):
    region.sync_laptop()
    cid = region.laptop.add("contact", {"name": "Dana Whitfield", "agency": "CCF",
                                        "scope": "all"})
    region.sync_laptop()
    # the attacker writes "the laptop's" next position (which hello reveals), signed by MPD
    with region.hub() as h:
        seq, hsh = h.conn.execute(
            "SELECT t.seq, t.hash FROM stream t JOIN site s ON s.ord = t.origin "
            "WHERE s.uuid = ? AND t.audience = 'all'", (region.laptop.site_uuid,)).fetchone()
    batch = signed(region.mpd, "all", [("contact", cid, {"title": ["Nobody"]})],
                   origin=region.laptop.site_uuid, start=(seq, bytes(hsh)))
    answer = protocol.unpack(region.push(
        batch, {region.laptop.site_uuid: ("CCF", "ccf-laptop", None)}).content)
    assert answer["applied"] == 0 and answer["tampered"]
    region.laptop.edit(cid, {"title": "Captain"})
    result = region.sync_laptop()
    assert result.sent.applied == 1
    with region.hub() as h:
        assert h.get(cid).values["title"] == "Captain"
        assert h.dump() == region.laptop.dump()


def test_a_relayed_change_altered_on_the_way_is_refused(region):
    region.sync_laptop()
    cid = region.laptop.add("contact", {"name": "Dana Whitfield", "agency": "CCF",
                                        "scope": "all", "title": "Captain"})
    # the laptop's genuine entries, carried by the attacker, one value changed
    region.laptop.sign_heads()   # the newest entries are signed when sent
    batch = next(outgoing(region.laptop.conn, {(region.laptop.site_uuid, "all"): 0}))
    for e in batch:
        if e.rid == cid:
            e.cells["title"] = ["Traitor"]
    answer = protocol.unpack(region.push(batch, sites_of(region.laptop.conn, batch)).content)
    assert answer["applied"] == 0 and answer["tampered"]
    region.sync_laptop()
    with region.hub() as h:
        assert h.get(cid).values["title"] == "Captain"


def test_a_narrowed_record_reaches_no_new_replica_of_the_old_audience(region, tmp_path):
    region.sync_laptop()
    cid = region.laptop.add("contact", {"name": "Shared Once", "agency": "CCF",
                                        "scope": "CCF,MPD", "notes": "old liaison notes"})
    region.sync_laptop()
    region.sync_mpd()
    assert "old liaison notes" in region.mpd.dump()
    region.laptop.edit(cid, {"scope": "private"})
    region.sync_laptop()
    region.sync_mpd()
    assert "old liaison notes" not in region.mpd.dump()
    # a new MPD replica, never synced before, gets nothing of the old values
    fresh = Store.create(tmp_path / "mpd2.db", "Metro Police Department", "MPD",
                         device="mpd-2")
    identity.enroll(fresh, region.mpd)
    with region.hub() as h:
        with h.transaction():
            _, token = tokens.issue(h.conn, "MPD", "mpd-2")
    peer = HttpPeer(region.url, token)
    peer.key_fingerprint = region.ccf_fp
    sync(fresh, peer)
    peer.close()
    raw = " ".join(c for (c,) in fresh.conn.execute("SELECT cells FROM change"))
    assert "old liaison notes" not in raw and "Shared Once" not in raw
    fresh.close()


def test_an_unconfirmed_partner_key_is_not_trusted(region):
    peer = HttpPeer(region.url, region.mpd_token)
    with pytest.raises(identity.UntrustedKey) as e:
        sync(region.mpd, peer)
    peer.close()
    assert region.ccf_fp in str(e.value)
    peer = HttpPeer(region.url, region.mpd_token)
    peer.key_fingerprint = "00000 " * 5 + "00000"
    with pytest.raises(identity.KeyChanged):
        sync(region.mpd, peer)
    peer.close()


def test_a_token_enrols_one_device_only(region, tmp_path):
    region.sync_laptop()
    assert identity.describe(region.laptop)["enrolled"]
    thief = Store.create(tmp_path / "thief.db", "Clark County Fire", "CCF", device="thief",
                         founder=False)
    peer = HttpPeer(region.url, region.laptop_token)
    with pytest.raises(Exception) as e:
        sync(thief, peer)
    peer.close()
    assert "enrolled another device" in str(e.value)
    assert json.loads(region.laptop.dump()) is not None
    thief.close()


def test_a_partner_that_knows_an_id_before_the_hub_cannot_claim_the_record(region):
    """The attacker acts before the genuine creation reaches the hub: it "creates" the record
    as MPD's and widens it. Once the creation arrives, every replica judges alike."""
    region.sync_laptop()
    region.sync_mpd()
    secret = region.laptop.add("contact", {"name": "Informant Line", "agency": "CCF",
                                           "scope": "private"})
    batch = signed(region.mpd, "all", [
        ("contact", secret, {"name": ["Hijacked"], "owner": ["MPD"], "scope": ["all"],
                             "_cl": [1]}),
        ("contact", secret, {"scope": ["all"], "title": ["Hijacked"]})])
    answer = protocol.unpack(region.push(batch, sites_of(region.mpd.conn, batch)).content)
    assert answer["applied"] == 1 and len(answer["refused"]) == 1   # its id names the laptop
    region.sync_laptop()
    with region.hub() as h:
        rec = h.get(secret)
        assert (rec.owner, rec.scope, rec.title) == ("CCF", "private", "Informant Line")
        assert rec.values["title"] is None
        assert h.dump() == region.laptop.dump()
    region.sync_mpd()
    assert "Informant" not in region.mpd.dump() and "Hijacked" not in region.mpd.dump()


def test_a_revoked_device_is_refused_everywhere_its_revocation_reaches(region, tmp_path):
    region.sync_laptop()
    cid = region.laptop.add("contact", {"name": "Dana Whitfield", "agency": "CCF",
                                        "scope": "all"})
    region.sync_laptop()
    region.sync_mpd()
    # the laptop is stolen: CCF's hub revokes it
    with region.hub() as h:
        got = identity.revoke_device(h, "ccf-laptop")
        assert got["site"] == region.laptop.site_uuid
    region.laptop.edit(cid, {"title": "Written by the thief"})
    result = region.sync_laptop()
    assert result.sent.applied == 0 and result.sent.unverified
    region.sync_mpd()
    assert region.mpd.conn.execute("SELECT count(*) FROM revocation").fetchone()[0] == 1
    with region.hub() as h:
        assert h.get(cid).values["title"] is None
    # carried by hand to MPD, the thief's change is not accepted there either
    region.laptop.sign_heads()   # the newest entries are signed when sent
    batch = next(outgoing(region.laptop.conn, {(region.laptop.site_uuid, "all"): 1}))
    from fieldcoord.store.exchange import apply_batch
    report = apply_batch(region.mpd, batch, sites_of(region.laptop.conn, batch))
    assert report.applied == 0 and "thief" not in region.mpd.dump()


def test_a_signed_change_that_does_not_fit_is_refused_not_a_crash(region):
    region.sync_laptop()
    region.sync_mpd()
    from fieldcoord.core import ids
    rid = ids.new_bound_id(region.mpd.site_uuid, "MPD")
    batch = signed(region.mpd, "all", [
        ("contact", rid, {"name": [{"nested": "object"}], "owner": ["MPD"], "scope": ["all"],
                          "_cl": [1]}),
        ("contact", rid, {"_cl": ["two"]}),
        ("contact", rid, {"title": [["a", "list"]]})])
    r = region.push(batch, sites_of(region.mpd.conn, batch))
    answer = protocol.unpack(r.content)
    assert r.status_code == 200 and answer["applied"] == 0 and len(answer["refused"]) == 3
    assert all("malformed" in why for *_, why in answer["refused"])
    # the stream goes on: nothing is stuck for anyone who receives it later
    result = region.sync_laptop()
    assert result.received.tampered == [] and region.sync_mpd().peer is not None


def test_a_hub_that_only_claims_to_be_the_agencys_gets_no_key_holder_to_follow(tmp_path):
    """Anyone can run `init --code CCF` on a server of their own: a CCF database made as its
    agency's key holder never takes that server's key unless the user confirmed it, and a
    device that had no key yet says which key it now trusts."""
    from fieldcoord.sync.engine import StorePeer
    fake = Store.create(tmp_path / "fake.db", "Clark County Fire", "CCF", device="ccf-hub",
                        founder=True)
    holder = Store.create(tmp_path / "real.db", "Clark County Fire", "CCF", founder=True)
    with pytest.raises(identity.KeyChanged, match="--trust"):
        sync(holder, StorePeer(fake))
    assert identity.home_key(holder.conn, "CCF") != identity.home_key(fake.conn, "CCF")
    joining = Store.create(tmp_path / "new.db", "Clark County Fire", "CCF", founder=False)
    result = sync(joining, StorePeer(fake))
    fp = identity.describe(fake)["agency_fingerprint"]
    assert any(fp in w and "compare" in w for w in result.warnings)
    for s in (fake, holder, joining):
        s.close()


def test_an_owner_claimed_before_the_creation_arrives_does_not_stick(region):
    region.sync_laptop()
    region.sync_mpd()
    secret = region.laptop.add("contact", {"name": "Informant Line", "agency": "CCF",
                                           "scope": "private"})
    batch = signed(region.mpd, "all", [
        ("contact", secret, {"name": ["Hijacked"], "owner": ["MPD"], "scope": ["all"]})])
    region.push(batch, sites_of(region.mpd.conn, batch))
    region.sync_laptop()
    with region.hub() as h:
        rec = h.get(secret)
        assert (rec.owner, rec.scope, rec.title) == ("CCF", "private", "Informant Line")
        assert h.dump() == region.laptop.dump()
    region.sync_mpd()
    assert "Informant" not in region.mpd.dump() and "Hijacked" not in region.mpd.dump()


def test_an_agency_cannot_revoke_another_agencys_device(region):
    region.sync_laptop()
    # MPD signs a "revocation" of CCF's laptop with its own agency key
    from fieldcoord.store import trust as t
    blob = t.revoke(region.mpd.agency_seed(), "MPD", region.laptop.site_uuid)
    with region.hub() as h:
        identity.take_revocations(h, [blob])
    cid = region.laptop.add("contact", {"name": "Dana Whitfield", "agency": "CCF"})
    result = region.sync_laptop()
    assert result.sent.applied >= 1 and not result.sent.unverified
    with region.hub() as h:
        assert h.get(cid).title == "Dana Whitfield"


def test_entries_forged_in_a_laptops_own_stream_while_its_row_lags_are_refused(region):
    """Small local writes leave the laptop's stream row behind its newest entries. A partner
    that knows the row's old position forges entries at the places the laptop's own unsent
    edits hold, signed with its own key, and hands them to the laptop: nothing is taken, the
    laptop's entries stay its own, and they still reach the hub whole."""
    from fieldcoord.store.exchange import apply_batch
    region.sync_laptop()
    cid = region.laptop.add("contact", {"name": "Dana Whitfield", "agency": "CCF",
                                        "scope": "all"})
    region.sync_laptop()
    region.sync_mpd()
    lap = region.laptop
    seq, h = lap.conn.execute("SELECT t.seq, t.hash FROM stream t WHERE t.origin = ? AND "
                              "t.audience = 'all'", (lap.self_ord,)).fetchone()
    lap.edit(cid, {"title": "Captain"})
    lap.edit(cid, {"title": "Battalion Chief"})
    assert lap.conn.execute("SELECT seq FROM stream WHERE origin = ? AND audience = 'all'",
                            (lap.self_ord,)).fetchone()[0] == seq      # the row lags
    own_entries = (f"SELECT c.seq, c.cells FROM {WHOLE_LOG} c JOIN stream t ON t.id = c.stream "
                   "WHERE t.origin = ? ORDER BY c.seq")
    own = lap.conn.execute(own_entries, (lap.self_ord,)).fetchall()
    batch = signed(region.mpd, "all", [("contact", cid, {"title": ["Nobody"]}),
                                       ("contact", cid, {"title": ["Nobody at all"]})],
                   origin=lap.site_uuid, start=(seq, bytes(h)))
    report = apply_batch(lap, batch, sites_of(region.mpd.conn, batch))
    assert report.applied == 0
    assert lap.get(cid).values["title"] == "Battalion Chief"
    assert lap.conn.execute(own_entries, (lap.self_ord,)).fetchall() == own
    region.sync_laptop()
    with region.hub() as hub:
        assert hub.get(cid).values["title"] == "Battalion Chief"


def test_a_laptop_restored_from_a_copy_taken_while_its_row_lagged_takes_its_entries_back(
        region, tmp_path):
    """A copy of the laptop's database taken between small writes and a sync (its stream row
    behind its newest entries) is put back; the hub then returns the laptop's own entries,
    which the copy already holds: they are known as its own, nothing is refused or doubled."""
    import shutil
    from pathlib import Path
    region.sync_laptop()
    cid = region.laptop.add("contact", {"name": "Dana Whitfield", "agency": "CCF",
                                        "scope": "all"})
    region.laptop.edit(cid, {"title": "Captain"})
    path = region.laptop.path
    copy = tmp_path / "copy.db"
    region.laptop.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copy(path, copy)
    if Path(str(path) + ".keys").exists():
        shutil.copy(str(path) + ".keys", str(copy) + ".keys")
    region.sync_laptop()                       # the hub now holds those entries
    laptop = region.laptop
    with Store.open(copy) as restored:
        held = restored.conn.execute("SELECT count(*) FROM change").fetchone()[0]
        region.laptop = restored
        try:
            result = region.sync_laptop()
        finally:
            region.laptop = laptop
        assert not result.received.tampered and not result.received.refused
        assert restored.get(cid).values["title"] == "Captain"
        assert restored.conn.execute("SELECT count(*) FROM change").fetchone()[0] >= held


def test_a_signed_creation_whose_sharing_does_not_parse_is_refused_not_a_crash(region):
    """A partner's creation naming a scope or an owner no replica can read (a number, words
    that are no agency codes) is refused; it does not fail the receiver's sync of everything
    after it, again at every sync."""
    region.sync_laptop()
    region.sync_mpd()
    from fieldcoord.core import ids
    odd = [ids.new_bound_id(region.mpd.site_uuid, "MPD") for _ in range(4)]
    fine = ids.new_bound_id(region.mpd.site_uuid, "MPD")
    batch = signed(region.mpd, "all", [
        ("contact", odd[0], {"owner": ["MPD"], "scope": ["not a scope!"], "name": ["A"],
                             "_cl": [1]}),
        ("contact", odd[1], {"owner": ["MPD"], "scope": [3], "name": ["B"], "_cl": [1]}),
        ("contact", odd[2], {"owner": ["MPD"], "scope": ["all"], "name": ["C"], "_cl": [1]}),
        ("contact", odd[2], {"scope": ["MPD, +++"]}),
        ("contact", odd[3], {"owner": [7], "scope": ["MPD,CCF"], "name": ["D"], "_cl": [1]}),
        ("contact", fine, {"owner": ["MPD"], "scope": ["all"], "name": ["Dana Whitfield"],
                           "_cl": [1]})])
    r = region.push(batch, sites_of(region.mpd.conn, batch))
    assert r.status_code == 200, r.content
    answer = protocol.unpack(r.content)
    assert len(answer["refused"]) == 4 and answer["applied"] == 2
    result = region.sync_laptop()
    assert result.received.tampered == []
    assert region.laptop.get(fine).values["name"] == "Dana Whitfield"
    assert region.laptop.get(odd[2]).scope == "all"
