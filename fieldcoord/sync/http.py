# SPDX-License-Identifier: GPL-3.0-or-later
"""A peer reached over HTTP(S) with requests: timeouts, retries, compressed messages (sync layer)."""
from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from ..core.errors import FieldcoordError
from ..store.merge import Entry, Report
from . import protocol
from .engine import Hello

TIMEOUT = (5, 120)          # connect, read (seconds)


class PeerError(FieldcoordError):
    """The peer could not be reached or refused the request."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


class HttpPeer:
    """The hub (or partner hub) at `url`, authenticated by a device token."""

    def __init__(self, url: str, token: str, name: str = "", retries: int = 3):
        self.url = url.rstrip("/")
        self.name = name or self.url
        self.session = requests.Session()
        self.session.headers.update({"Authorization": f"Bearer {token}",
                                     "Content-Type": "application/x-fieldcoord",
                                     "User-Agent": "fieldcoord"})
        # every request is idempotent (applying a batch twice changes nothing): retry them all
        retry = Retry(total=retries, connect=retries, read=retries, backoff_factor=0.5,
                      status_forcelist=(502, 503, 504), allowed_methods=None)
        self.session.mount("http://", HTTPAdapter(max_retries=retry))
        self.session.mount("https://", HTTPAdapter(max_retries=retry))
        self.bytes_sent = 0
        self.bytes_received = 0
        self.round_trips = 0
        self.site = ""

    def _post(self, route: str, message: dict) -> dict:
        body = protocol.pack(message)
        try:
            r = self.session.post(self.url + route, data=body, timeout=TIMEOUT)
        except requests.exceptions.SSLError as e:
            raise PeerError(f"{self.name}: TLS failed ({e.__class__.__name__}); check the hub's "
                            "certificate") from None
        except requests.exceptions.RequestException as e:
            raise PeerError(f"{self.name} is not reachable ({e.__class__.__name__})") from None
        self.round_trips += 1
        self.bytes_sent += len(body)
        self.bytes_received += len(r.content)
        if r.status_code != 200:
            try:
                why = r.json().get("error", r.text)
            except ValueError:
                why = r.text[:200]
            if r.status_code == 401:
                why = f"the hub refused the device token ({why})"
            raise PeerError(f"{self.name}: {why}", r.status_code)
        return protocol.unpack(r.content)

    def close(self) -> None:
        self.session.close()

    def hello(self, site: str, agency: str, vector: dict) -> Hello:
        self.site = site
        m = self._post("/v1/hello", {"site": site, "agency": agency,
                                     "vector": protocol.encode_vector(vector)})
        return Hello(m["site"], m["agency"], m["epoch"], protocol.decode_vector(m["vector"]))

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
                        conflicts=m.get("conflicts", 0))
        by_key = {(e.origin, e.audience, e.seq): e for e in entries}
        for origin, aud, seq, _tbl, _rid, why in m.get("refused", []):
            e = by_key.get((origin, aud, seq))
            if e is not None:
                report.refused.append((e, why))
        report.gaps = {tuple(g) for g in m.get("gaps", [])}
        report.skewed = dict(m.get("skewed", {}))
        return report
