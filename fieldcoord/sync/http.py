# SPDX-License-Identifier: GPL-3.0-or-later
"""A peer reached over HTTP(S) with requests: timeouts, retries, compressed messages
(sync layer)."""
from __future__ import annotations

import hashlib
import threading
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from ..core.errors import Cancelled, FieldcoordError
from ..core.validate import may_see
from ..store.incoming import Entry, Report
from . import protocol, tls
from .engine import Hello
from .snapshot import CHUNK, SnapshotError

TIMEOUT = (5, 120)          # connect, read (seconds)


# what a hello's answer says of keys and certificates (sync.keyexchange.answer)
ANSWER_KEYS = ("agency_key", "cert", "endorsements", "enrolled", "enrol_error", "box_key",
               "box_keys", "box", "revocations")


def answer_keys(message: dict) -> dict:
    return {k: message.get(k) for k in ANSWER_KEYS}


class PeerError(FieldcoordError):
    """The peer could not be reached or refused the request."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


class HttpPeer:
    """The hub (or partner hub) at `url`, authenticated by a device token."""

    def __init__(self, url: str, token: str, name: str = "", retries: int = 3,
                 tls_ca: str | None = None, tls_pin: str | None = None):
        """`tls_ca`: a CA bundle (PEM text) to verify the hub's certificate against instead of
        the system's; `tls_pin`: the SHA-256 fingerprint of the one certificate to accept."""
        self.url = url.rstrip("/")
        self.name = name or self.url
        self.tls_ca = tls_ca
        self.tls_pin = tls_pin
        self.session = requests.Session()
        self.session.headers.update({"Authorization": f"Bearer {token}",
                                     "Content-Type": "application/x-fieldcoord",
                                     "User-Agent": "fieldcoord"})
        # every request is idempotent (applying a batch twice changes nothing): retry them all,
        # but not a TLS failure (other=0): a certificate refused once is refused again
        # a hub's Retry-After (429: too many refused tokens) is said to the user at once rather
        # than waited out in silence
        retry = Retry(total=retries, connect=retries, read=retries, other=0, backoff_factor=0.5,
                      status_forcelist=(502, 503, 504), allowed_methods=None,
                      respect_retry_after_header=False)
        self.session.mount("http://", HTTPAdapter(max_retries=retry))
        self.session.mount("https://", tls.adapter(tls_ca, tls_pin, max_retries=retry))
        self.bytes_sent = 0
        self.bytes_received = 0
        self.round_trips = 0
        self.site = ""
        # the hub's agency as the last sync learned it (the peer list keeps it): hello's
        # digests then leave out what that agency may not hold
        self.peer_agency: str | None = None

    def _request(self, route: str, body: bytes, stream: bool = False) -> requests.Response:
        try:
            r = self.session.post(self.url + route, data=body, timeout=TIMEOUT, stream=stream)
        except requests.exceptions.SSLError as e:
            message, _ = tls.refusal(self.name, self.url, self.tls_ca, self.tls_pin, e)
            raise PeerError(message) from None
        except requests.exceptions.RequestException as e:
            raise PeerError(f"{self.name} is not reachable ({e.__class__.__name__})") from None
        self.round_trips += 1
        self.bytes_sent += len(body)
        if r.status_code != 200:
            self.bytes_received += len(r.content)
            try:
                why = r.json().get("error", r.text)
            except ValueError:
                why = r.text[:200]
            if r.status_code == 401:
                why = f"the hub refused the device token ({why})"
            elif r.status_code == 429:
                wait = r.headers.get("Retry-After", "60")
                why = (f"too many refused tokens came from this address; the hub answers again "
                       f"in {wait} s ({why})")
            raise PeerError(f"{self.name}: {why}", r.status_code)
        return r

    def _post(self, route: str, message: dict) -> dict:
        r = self._request(route, protocol.pack(message))
        self.bytes_received += len(r.content)
        try:
            return protocol.unpack(r.content)
        except protocol.ProtocolError as e:
            raise self._malformed(e) from None

    def _malformed(self, e: Exception) -> PeerError:
        return PeerError(f"{self.name} sent an answer that is not what the protocol says ({e}); "
                         "nothing of it was taken")

    def snapshot(self, path: Path, progress=None, cancel: threading.Event | None = None) -> None:
        """Download the hub's snapshot for this token's agency into `path` (decompressed),
        checking its size and SHA-256; raises PeerError or SnapshotError (the file may then
        hold a part, for the caller to delete), Cancelled when `cancel` is set."""
        r = self._request("/v1/snapshot", protocol.pack({"site": self.site}), stream=True)
        try:
            try:
                size = int(r.headers["X-Fieldcoord-Snapshot-Size"])
                digest = r.headers["X-Fieldcoord-Snapshot-Sha256"].lower()
            except (KeyError, ValueError):
                raise SnapshotError(f"{self.name} sent a snapshot without its size and "
                                    "checksum") from None
            unzip = zlib.decompressobj()
            h = hashlib.sha256()
            done = 0
            with open(path, "wb") as f:
                def write(data: bytes) -> None:
                    nonlocal done
                    done += len(data)
                    if done > size:
                        raise SnapshotError(f"the snapshot from {self.name} is larger than "
                                            "announced")
                    h.update(data)
                    f.write(data)
                try:
                    for chunk in r.iter_content(CHUNK):
                        if cancel is not None and cancel.is_set():
                            raise Cancelled()
                        self.bytes_received += len(chunk)
                        while chunk:                 # bounded output per step
                            write(unzip.decompress(chunk, 4 * CHUNK))
                            chunk = unzip.unconsumed_tail
                        if progress:
                            progress("downloading a snapshot", done, size)
                    write(unzip.flush())
                except zlib.error:
                    raise SnapshotError(f"the snapshot from {self.name} arrived damaged") from None
                except requests.exceptions.RequestException as e:
                    raise PeerError(f"{self.name}: the snapshot download broke off "
                                    f"({e.__class__.__name__})") from None
            if not unzip.eof or done != size or h.hexdigest() != digest:
                raise SnapshotError(f"the snapshot from {self.name} arrived incomplete or "
                                    "damaged")
        finally:
            r.close()

    def close(self) -> None:
        self.session.close()

    def hello(self, site: str, agency: str, vector: dict, keys: dict | None = None) -> Hello:
        """Digests of our vector out; the hub's vector back, whole or (when it knows digests)
        as the streams of the buckets that differ, ours standing for the others."""
        self.site = site
        # the streams the hub may hold too (its agency, when a sync has told it)
        ours = {k: v for k, v in vector.items()
                if self.peer_agency is None or may_see(self.peer_agency, k[1])}
        m = self._post("/v1/hello", {"site": site, "agency": agency,
                                     "buckets": protocol.vector_digests(ours), **(keys or {})})
        try:
            theirs = protocol.decode_vector(m.get("vector"))
            if "differ" in m:
                theirs = protocol.whole_vector(ours, theirs, m["differ"])
        except protocol.ProtocolError as e:
            raise self._malformed(e) from None
        return Hello(m["site"], m["agency"], m["epoch"], theirs, answer_keys(m))

    def _pull_one(self, since: dict) -> tuple[list[Entry], dict, bool]:
        m = self._post("/v1/pull", {"since": protocol.encode_vector(since)})
        entries, sites = protocol.decode_batch(m["batch"])
        return entries, sites, bool(m.get("more"))

    def pull(self, agency: str, since: dict) -> Iterator[tuple[list[Entry], dict]]:
        """Batches of what we lack. The next batch is fetched while the caller applies this
        one: what to ask for next follows from the batch itself."""
        since = dict(since)
        if not since:
            return
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="fieldcoord-pull") as ahead:
            future = ahead.submit(self._pull_one, dict(since))
            while future is not None:
                entries, sites, more = future.result()
                for e in entries:
                    key = (e.origin, e.audience)
                    since[key] = max(since.get(key, 0), e.seq)
                future = ahead.submit(self._pull_one, dict(since)) if more and entries else None
                if entries:
                    yield entries, sites

    def push(self, agency: str, entries: list[Entry], sites: dict) -> Report:
        m = self._post("/v1/push", {"site": self.site,
                                    "batch": protocol.encode_batch(entries, sites)})
        report = Report(applied=m.get("applied", 0), duplicates=m.get("duplicates", 0),
                        conflicts=m.get("conflicts", 0), held=m.get("held", 0))
        for origin, aud, seq, why in m.get("tampered", []):
            report.tampered.append((origin, aud, seq, why))
        report.unverified = dict(m.get("unverified", {}))
        by_key = {(e.origin, e.audience, e.seq): e for e in entries}
        for origin, aud, seq, _tbl, _rid, why in m.get("refused", []):
            e = by_key.get((origin, aud, seq))
            if e is not None:
                report.refused.append((e, why))
        report.gaps = {tuple(g) for g in m.get("gaps", [])}
        report.skewed = dict(m.get("skewed", {}))
        return report
