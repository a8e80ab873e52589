# SPDX-License-Identifier: GPL-3.0-or-later
"""Replicas of several agencies that know each other's keys, as after enrolment and fingerprint
checks: the first replica of an agency holds its key and enrols the others."""
from fieldcoord.store import Store, identity

NAMES = {"CCF": "Clark County Fire", "MPD": "Metro Police Department"}


class Region:
    def __init__(self):
        self.holders: dict[str, Store] = {}
        self.replicas: list[Store] = []

    def make(self, path, agency="CCF", device=None, agency_name=None) -> Store:
        name = agency_name or NAMES.get(agency, agency)
        holder = self.holders.get(agency)
        s = Store.create(path, name, agency, device=device, founder=holder is None)
        if holder is None:
            self.holders[agency] = s
            for other in self.replicas:
                if other.home != agency:
                    identity.confirm(other, agency, identity.home_key(s.conn, agency))
        else:
            identity.enroll(s, holder)
        for code, h in self.holders.items():
            if code != agency:
                identity.confirm(s, code, identity.home_key(h.conn, code))
        self.replicas.append(s)
        return s

    def join(self, store: Store) -> Store:
        """Bring a store made elsewhere into the region (a founder of a new agency, or a replica
        of an agency whose holder is known)."""
        holder = self.holders.get(store.home)
        if holder is None:
            self.holders[store.home] = store
            for other in self.replicas:
                if other.home != store.home:
                    identity.confirm(other, store.home, identity.home_key(store.conn, store.home))
        elif holder is not store:
            identity.enroll(store, holder)
        for code, h in self.holders.items():
            if code != store.home:
                identity.confirm(store, code, identity.home_key(h.conn, code))
        self.replicas.append(store)
        return store
