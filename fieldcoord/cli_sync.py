# SPDX-License-Identifier: GPL-3.0-or-later
"""Command-line sync commands: hub, peer, sync, conflicts (CLI layer, thin over sync and hub)."""
from __future__ import annotations

import json
import logging
import sys
import time
from pathlib import Path

from .core import places
from .core.errors import FieldcoordError, ValidationError

log = logging.getLogger("fieldcoord.cli")


def add_parsers(sub) -> None:
    hub = sub.add_parser("hub", help="run this database as a hub; manage device tokens")
    hub.add_argument("--database-url", metavar="URL", default=places.database_url(),
                     help="a regional hub's records in PostgreSQL (postgresql://...; default "
                     "$FIELDCOORD_DATABASE_URL); --db then names where its key file is")
    hs = hub.add_subparsers(dest="hub_command",
                            metavar="serve|backup|restore|token|import-sqlite|migrate|new-epoch",
                            required=True)
    s = hs.add_parser("serve", help="serve sync over HTTP(S)")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8765)
    s.add_argument("--cert", type=Path, help="TLS certificate (PEM)")
    s.add_argument("--key", type=Path, help="TLS private key (PEM)")
    s.add_argument("--insecure", action="store_true",
                   help="allow plain HTTP on a non-loopback address")
    s.add_argument("--max-connections", type=int, default=None, metavar="N",
                   help="open connections and running requests each process takes before it "
                   "answers 503 (default 256; a regional hub with many laptops: 1000 or more)")
    s.add_argument("--workers", type=int, default=1, metavar="N",
                   help="serve from N processes sharing the port (a hub on PostgreSQL; on "
                   "SQLite they take turns writing)")
    b = hs.add_parser("backup", help="copy the hub's database into a folder, consistent while "
                      "it serves (and its key file, when it has one)")
    b.add_argument("folder", type=Path)
    b.add_argument("--keep", type=int, metavar="N", help="keep the newest N backups there")
    r = hs.add_parser("restore", help="put a backup in place as this hub's database; the "
                      "restored hub gets a new epoch so replicas re-send what it lacks")
    r.add_argument("backup", type=Path)
    hs.add_parser("import-sqlite", help="move the SQLite hub --db names into the empty "
                  "PostgreSQL database --database-url names (every change, token and key)")
    hs.add_parser("migrate", help="bring the hub's database to this fieldcoord's schema "
                  "(PostgreSQL: run it with every hub process stopped)")
    hs.add_parser("new-epoch", help="after the hub's database was restored from a dump "
                  "(pg_restore): a new epoch, so laptops and partners re-send what it lacks")
    tok = hs.add_parser("token", help="device tokens: add, list, revoke")
    ts = tok.add_subparsers(dest="token_command", metavar="add|list|revoke", required=True)
    t = ts.add_parser("add", help="issue a token (printed once)")
    t.add_argument("--agency", required=True)
    t.add_argument("--device", required=True)
    ts.add_parser("list", help="issued tokens (never the tokens themselves)")
    t = ts.add_parser("revoke", help="revoke a token by id")
    t.add_argument("id", type=int)

    peer = sub.add_parser("peer", help="hubs and partner hubs this replica syncs with")
    ps = peer.add_subparsers(dest="peer_command", metavar="add|list|remove", required=True)
    p = ps.add_parser("add", help="add a peer; its token goes to the OS keyring")
    p.add_argument("name")
    p.add_argument("url")
    p.add_argument("--token-stdin", action="store_true", help="read the token from stdin")
    p.add_argument("--trust", metavar="FINGERPRINT",
                   help="the fingerprint of the peer agency's key, as its administrator reads "
                   "it to you (fieldcoord keys on their side); a partner's key is refused "
                   "until confirmed")
    trust = p.add_mutually_exclusive_group()
    trust.add_argument("--ca", type=Path, metavar="FILE",
                       help="verify the hub's certificate against this CA bundle (PEM); its "
                       "certificates are kept with the peer")
    trust.add_argument("--pin", metavar="SHA256",
                       help="accept only the hub certificate with this SHA-256 fingerprint "
                       "(hex, colons allowed)")
    p.add_argument("--allow-plaintext-keyring", action="store_true",
                   help="store the token even where it is kept unencrypted: a keyring's "
                   "plain file, or the database itself when there is no keyring")
    ps.add_parser("list", help="peers and their last sync")
    p = ps.add_parser("remove", help="forget a peer and its token")
    p.add_argument("name")

    s = sub.add_parser("sync", help="sync with a peer (all peers when no name)")
    s.add_argument("name", nargs="?")
    s.add_argument("--include-demo", action="store_true",
                   help="sync even the demo directory's fictional records (refused otherwise)")

    b = sub.add_parser("bundle", help="changes on a file, for a USB stick")
    bs = b.add_subparsers(dest="bundle_command", metavar="export|import", required=True)
    e = bs.add_parser("export", help="write a bundle")
    e.add_argument("file", type=Path)
    e.add_argument("--for", dest="for_agency", metavar="CODE",
                   help="only what this agency may see (everything when not given)")
    e.add_argument("--since-receipt", type=Path, metavar="FILE",
                   help="leave out what this receipt says already arrived")
    e.add_argument("--include-demo", action="store_true",
                   help="write even the demo directory's fictional records (refused otherwise)")
    i = bs.add_parser("import", help="apply a bundle (or keep a partner's receipt)")
    i.add_argument("file", type=Path)
    i.add_argument("--trust", metavar="FINGERPRINT",
                   help="the fingerprint of the writing partner's agency key, if not "
                   "confirmed here yet")

    k = sub.add_parser("keys", help="this replica's keys and the partner keys it trusts")
    ks = k.add_subparsers(dest="keys_command", metavar="show|trust|forget|devices|revoke")
    ks.add_parser("show", help="fingerprints to read out to partners, and trusted partners")
    t = ks.add_parser("trust", help="confirm a partner agency's key by its fingerprint")
    t.add_argument("agency", metavar="CODE")
    t.add_argument("fingerprint", help="six groups of five digits, as the partner reads them")
    f = ks.add_parser("forget", help="stop trusting a partner agency's key (before it "
                      "presents a new one)")
    f.add_argument("agency", metavar="CODE")
    ks.add_parser("devices", help="this agency's devices known here, certified or revoked")
    r = ks.add_parser("revoke", help="revoke a lost or stolen device of this agency (key "
                      "holder only): nothing more from it is accepted anywhere")
    r.add_argument("device", help="its device name or site id (fieldcoord keys devices)")

    c = sub.add_parser("conflicts", help="open conflicts: list, resolve")
    cs = c.add_subparsers(dest="conflicts_command", metavar="list|resolve")
    cs.add_parser("list", help="open conflicts with both values")
    r = cs.add_parser("resolve", help="close a conflict keeping one value")
    r.add_argument("id")
    r.add_argument("--keep", required=True, metavar="VALUE_ID|current")


COMMANDS = ("hub", "peer", "sync", "conflicts", "bundle", "keys")


def run_keys(args, store) -> int:
    from .store import identity
    if args.keys_command == "trust":
        fp = identity.confirm(store, args.agency, fingerprint=args.fingerprint)
        print(json.dumps({"agency": args.agency.upper(), "fingerprint": fp}) if args.json else
              f"trusting {args.agency.upper()}'s key {fp}")
        return 0
    if args.keys_command == "devices":
        rows = identity.devices(store)
        if args.json:
            print(json.dumps(rows, indent=1))
        for d in rows if not args.json else ():
            print(f"{d['site']}  {d['device'] or '?':<24} "
                  + (f"revoked {d['revoked_at']}" if d["revoked_at"] else "certified"))
        return 0
    if args.keys_command == "revoke":
        got = identity.revoke_device(store, args.device)
        print(json.dumps(got) if args.json else
              f"revoked {got['device']} ({got['site']}); replicas learn it at their next sync. "
              "Revoke its device token too: fieldcoord hub token list / revoke")
        return 0
    if args.keys_command == "forget":
        code = args.agency.strip().upper()
        with store.transaction():
            gone = store.conn.execute("DELETE FROM agency_key WHERE code = ? AND trust != 'home'",
                                      (code,)).rowcount
        if not gone:
            raise ValidationError(f"no partner key of {code} is trusted here")
        print(f"forgot {code}'s key")
        return 0
    d = identity.describe(store)
    if args.json:
        print(json.dumps(d, indent=1))
        return 0
    print(f"agency {d['agency']}: key {d['agency_fingerprint'] or '(not enrolled yet)'}"
          + (" (held here)" if d["key_holder"] else ""))
    print(f"this device ({d['device']}): key {d['device_fingerprint']}, "
          + ("certified" if d["enrolled"] else "not certified yet: sync with your agency's hub"))
    print(f"private keys kept in: {d['keystore']}")
    for p in d["partners"]:
        print(f"  {p['agency']:<8} {p['fingerprint']}  {p['trust']}"
              + ("" if p["seen"] else " (key not seen yet)"))
    if d["warning"]:
        print(f"warning: {d['warning']}", file=sys.stderr)
    return 0


def _hub_store(args, db: Path):
    """The hub's Store: in PostgreSQL with --database-url, else the SQLite file."""
    if getattr(args, "database_url", None):
        from .store.postgres import open_store
        return open_store(args.database_url, db)
    from .store import Store
    return Store.open(db)


def run_hub(args, db: Path) -> int:  # noqa: C901 - one branch per hub command
    from .hub import tokens
    url = getattr(args, "database_url", None)
    if args.hub_command in ("backup", "restore") and url:
        raise ValidationError(f"hub {args.hub_command} is for a hub in SQLite; back up a "
                              "PostgreSQL hub with pg_dump (docs/hub.md)")
    if args.hub_command == "import-sqlite":
        if not url:
            raise ValidationError("hub import-sqlite needs --database-url postgresql://...")
        from .store.postgres import import_sqlite
        counts = import_sqlite(db, url)
        print(f"moved {db} into PostgreSQL: {counts.get('change', 0)} changes, "
              f"{counts.get('device_token', 0)} device tokens, {sum(counts.values())} rows in "
              "all; serve it with hub serve --database-url")
        log.info("moved %s into PostgreSQL (%d rows)", db, sum(counts.values()))
        return 0
    if args.hub_command == "migrate":
        if url:
            from .store.postgres import migrate
            done = migrate(url)
        else:
            from .store import Store
            from .store.migrations import applied
            with Store.open(db) as s:          # (opening migrates)
                done = applied(s.conn)[-1:]
        print(f"schema brought to {', '.join(done)}" if done and url else
              "the hub's schema is up to date")
        return 0
    if args.hub_command == "new-epoch":
        if url:
            from .store.postgres import new_epoch
            epoch = new_epoch(url)
        else:
            import uuid

            from .store import Store
            epoch = str(uuid.uuid4())
            with Store.open(db) as s:
                s.conn.execute("UPDATE meta SET value = ? WHERE key = 'epoch'", (epoch,))
        print(f"new epoch {epoch}: laptops and partner hubs re-send what the hub lacks at "
              "their next sync")
        log.info("new epoch %s", epoch)
        return 0
    if args.hub_command == "serve":
        if args.workers < 1 or args.workers > 64:
            raise ValidationError("--workers must be between 1 and 64")
        from dataclasses import replace

        from .hub.app import Limits
        limits = Limits()
        if args.max_connections is not None:
            if not 16 <= args.max_connections <= 100_000:
                raise ValidationError("--max-connections must be between 16 and 100000")
            limits = replace(limits, connections=args.max_connections)
        scheme = "https" if args.cert else "http"

        def say(sock) -> None:
            with _hub_store(args, db) as s:
                where = "PostgreSQL" if url else str(db)
                said = f"hub of {s.home} serving {where} at {scheme}://{args.host}:" \
                    f"{sock.getsockname()[1]}" + \
                    (f" from {args.workers} processes" if args.workers > 1 else "")
                print(f"{said} (Ctrl+C stops)", file=sys.stderr, flush=True)
                log.info("%s", said)
                if s.key_warning():
                    print(f"warning: {s.key_warning()}", file=sys.stderr, flush=True)
                    log.warning("%s", s.key_warning())
        if args.workers > 1:
            from .hub.server import serve_workers
            code = serve_workers(db, args.host, args.port, args.workers, args.cert, args.key,
                                 args.insecure, limits, database_url=url, on_ready=say)
            log.info("hub of %s stopped", db)
            return code
        from .hub.server import make_server
        server, sock = make_server(db, args.host, args.port, args.cert, args.key, args.insecure,
                                   limits, database_url=url)
        say(sock)
        server.run(sockets=[sock])
        log.info("hub of %s stopped", db)
        return 0
    if args.hub_command == "backup":
        from .hub.backup import backup
        done = backup(db, args.folder, args.keep)
        log.info("backed up %s to %s (%d bytes); %d older removed", db, done.path, done.size,
                 len(done.removed))
        if args.json:
            print(json.dumps({"backup": str(done.path), "bytes": done.size,
                              "keys": str(done.keys) if done.keys else None,
                              "removed": [str(p) for p in done.removed]}))
        else:
            print(f"backed up {db} to {done.path} ({done.size / 1e6:.1f} MB)"
                  + (", with its key file" if done.keys else "")
                  + (f"; removed {len(done.removed)} older" if done.removed else ""))
        return 0
    if args.hub_command == "restore":
        from .hub.server import restore
        epoch = restore(args.backup, db)
        print(f"restored {db} from {args.backup}; new epoch {epoch}")
        return 0
    with _hub_store(args, db) as s:
        if args.token_command == "add":
            with s.transaction():
                tid, token = tokens.issue(s.conn, args.agency, args.device)
            if args.json:
                print(json.dumps({"id": tid, "agency": args.agency.upper(),
                                  "device": args.device, "token": token}))
            else:
                print(token)
                print(f"token {tid} for {args.device} of {args.agency.upper()}: shown once, "
                      "store it now (fieldcoord peer add NAME URL --token-stdin)",
                      file=sys.stderr)
        elif args.token_command == "list":
            rows = tokens.listing(s.conn)
            if args.json:
                print(json.dumps([t.__dict__ for t in rows], indent=1))
            for t in rows if not args.json else ():
                state = f"revoked {t.revoked_at}" if t.revoked_at else "active"
                print(f"{t.id:>4}  {t.agency:<8} {t.device:<24} {t.created_at}  {state}")
        else:
            with s.transaction():
                t = tokens.revoke(s.conn, args.id)
            print(json.dumps(t.__dict__) if args.json else
                  f"revoked token {t.id} of {t.device} ({t.agency})")
    return 0


def run_peer(args, store) -> int:
    from .sync import credentials
    conn = store.conn
    if args.peer_command == "add":
        from .sync import tls
        from .sync.peers import check_peer_name, check_peer_url, check_trust, check_trust_settings
        args.name, args.url = check_peer_name(args.name), check_peer_url(args.url)
        tls_ca = tls.read_ca_file(args.ca) if args.ca else None
        tls_ca, tls_pin = check_trust_settings(args.url, tls_ca, args.pin)
        # a refused certificate writes nothing; one the user confirms at a terminal is pinned;
        # a hub that does not answer now is checked at the first sync
        check = check_trust(args.name, args.url, tls_ca, tls_pin)
        if check.state == "unreachable":
            print(f"note: {args.url} does not answer now; its certificate is checked at the "
                  "first sync", file=sys.stderr)
        elif check.state == "refused":
            cert = check.certificate
            if tls_ca or tls_pin or cert is None or not sys.stdin.isatty():
                raise ValidationError(check.message)
            print(f"{args.url} presents a certificate this computer does not trust:",
                  file=sys.stderr)
            for line in cert.lines():
                print(f"  {line}", file=sys.stderr)
            print("Compare the fingerprint with the one the hub's administrator gives you.",
                  file=sys.stderr)
            print("pin this certificate? [y/N] ", end="", file=sys.stderr, flush=True)
            if sys.stdin.readline().strip().lower() not in ("y", "yes"):
                raise ValidationError(f"{args.name} not added: its certificate was not pinned")
            tls_pin = cert.fingerprint
        exists = conn.execute("SELECT 1 FROM peer WHERE name = ?", (args.name,)).fetchone()
        if args.token_stdin:
            token = sys.stdin.readline().strip()
        elif sys.stdin.isatty():
            import getpass
            token = getpass.getpass(f"token for {args.name}"
                                    + (" (Enter keeps the stored one)" if exists else "")
                                    + ": ").strip()
        elif exists:
            token = ""                  # changing the address or the trust keeps the token
        else:
            raise ValidationError("give the token with --token-stdin")
        if not token and not exists:
            raise ValidationError("the token is empty")
        from .store.trust import parse_fingerprint
        key_fp = parse_fingerprint(args.trust) if args.trust else None
        with store.transaction():
            conn.execute("INSERT INTO peer (name, url, tls_ca, tls_pin) VALUES (?, ?, ?, ?) "
                         "ON CONFLICT (name) DO UPDATE SET url = excluded.url, "
                         "tls_ca = excluded.tls_ca, tls_pin = excluded.tls_pin",
                         (args.name, args.url, tls_ca, tls_pin))
            if key_fp:
                conn.execute("UPDATE peer SET key_fingerprint = ? WHERE name = ?",
                             (key_fp, args.name))
        trust = (f", certificate pinned {tls.show_fingerprint(tls_pin)}" if tls_pin else
                 ", certificate checked against the given CA" if tls_ca else "")
        if not token:
            print(f"peer {args.name} at {args.url} (stored token kept{trust})")
            return 0
        from .sync.peers import keyring_problem
        problem = keyring_problem(args.name, args.allow_plaintext_keyring, store)
        if problem:
            print(f"warning: token not stored. {problem} (--allow-plaintext-keyring stores it "
                  f"anyway; {credentials.env_name(args.name)} gives it at each sync)",
                  file=sys.stderr)
            print(f"peer {args.name} at {args.url} (token not stored{trust})")
            return 0
        credentials.store_token(store.site_uuid, args.name, token, allow_plaintext=True,
                                store=store)
        home = credentials.token_home(store)
        if home == "plaintext keyring":
            print(f"warning: the token is stored unencrypted in a file by "
                  f"{credentials.plaintext_backend()}: anyone who can read your files can copy "
                  "it", file=sys.stderr)
        elif home == "database":
            print(f"warning: no keyring here: the token is stored unencrypted in {store.path}; "
                  "anyone who copies that file can sync as this device", file=sys.stderr)
        place = {"file": f"encrypted in {store.path}.keys",
                 "database": "in the database"}.get(home, "in the keyring")
        print(f"peer {args.name} at {args.url} (token {place}{trust})")
    elif args.peer_command == "list":
        rows = conn.execute("SELECT name, url, agency, last_sync, last_error FROM peer "
                            "ORDER BY name").fetchall()
        if args.json:
            print(json.dumps([dict(zip(("name", "url", "agency", "last_sync", "last_error"), r))
                              for r in rows], indent=1))
        for name, url, agency, last, err in rows if not args.json else ():
            print(f"{name:<16} {url:<40} {agency or '?':<8} last sync {last or 'never'}"
                  + (f"  ({err})" if err else ""))
    else:
        if not conn.execute("SELECT 1 FROM peer WHERE name = ?", (args.name,)).fetchone():
            raise ValidationError(f"no peer named {args.name}")
        with store.transaction():
            conn.execute("DELETE FROM peer WHERE name = ?", (args.name,))
        credentials.forget_token(store.site_uuid, args.name, store)
        print(f"removed peer {args.name}")
    return 0


def _confirm_key(e) -> bool:
    """At a terminal, show a partner key's fingerprint and ask the user to confirm it."""
    if not sys.stdin.isatty():
        return False
    print(f"\nThe key of agency {e.agency} is not confirmed on this replica. Its fingerprint:\n"
          f"\n    {e.fingerprint}\n\nRead it out with {e.agency}'s administrator (over the "
          "phone, not by e-mail from the same source).", file=sys.stderr)
    print("Do the fingerprints match? [y/N] ", end="", file=sys.stderr, flush=True)
    return sys.stdin.readline().strip().lower() in ("y", "yes")


def run_sync(args, store) -> int:
    from .store import identity
    from .store.exchange import visible_vector
    from .store.identity import UntrustedKey
    from .sync import credentials
    from .sync.engine import sync
    from .sync.http import HttpPeer
    from .sync.runs import record_outcome
    from .sync.synclog import record_failure
    rows = store.conn.execute("SELECT name, url, epoch, tls_ca, tls_pin FROM peer"
                              + (" WHERE name = ?" if args.name
                              else "") + " ORDER BY name", (args.name,) if args.name else ()
                              ).fetchall()
    if not rows:
        raise ValidationError(f"no peer named {args.name}" if args.name else
                              "no peers yet: fieldcoord peer add NAME URL --token-stdin")
    from .demo import check_may_share
    check_may_share(store, args.include_demo, args.name or "the peers")
    failed = 0
    summary = []
    for name, url, epoch, tls_ca, tls_pin in rows:
        def progress(label, value, maximum, name=name):
            if sys.stderr.isatty():
                print(f"\r{name}: {label} {value}/{maximum}", end="", file=sys.stderr, flush=True)
        try:
            peer = HttpPeer(url, credentials.load_token(store.site_uuid, name, store), name,
                            tls_ca=tls_ca, tls_pin=tls_pin)
            started = time.monotonic()
            before = visible_vector(store.conn, None)
            try:
                try:
                    result = sync(store, peer, progress, allow_demo=args.include_demo)
                except UntrustedKey as e:
                    if not _confirm_key(e):
                        raise
                    identity.confirm(store, e.agency, fingerprint=e.fingerprint)
                    result = sync(store, peer, progress, allow_demo=args.include_demo)
            finally:
                peer.close()
            if sys.stderr.isatty():
                print(file=sys.stderr)
        except FieldcoordError as e:
            failed += 1
            record_failure(store, name, str(e))
            print(f"error: {e}", file=sys.stderr)
            summary.append({"peer": name, "error": str(e)})
            continue
        outcome = record_outcome(store, name, epoch, before, result)
        restored = outcome.restored
        line = {"peer": name, "received": result.received.applied, "sent": result.sent.applied,
                "conflicts": outcome.conflicts,
                "refused": [[e.tbl, e.rid, why] for e, why in result.sent.refused],
                "skewed": result.received.skewed | result.sent.skewed,
                "round_trips": peer.round_trips, "bytes": peer.bytes_sent + peer.bytes_received,
                "seconds": round(time.monotonic() - started, 3), "hub_restored": restored,
                "warnings": [w for w in outcome.clock if "clock of" not in w],
                "tampered": [[what, why] for what, why in outcome.refused
                             if what.startswith("changes ")]}
        summary.append(line)
        if not args.json:
            print(f"{name}: received {line['received']}, sent {line['sent']} changes, "
                  f"{line['conflicts']} new conflicts ({line['round_trips']} round trips, "
                  f"{line['bytes']} bytes)")
            for tbl, rid, why in line["refused"]:
                print(f"  refused by {name}: {tbl} {rid}: {why}")
            for site, ahead in line["skewed"].items():
                print(f"  warning: replica {site[:8]}'s clock is {ahead // 60000} minutes ahead; "
                      "its edits cannot win conflicts by clock alone")
            for what in line["warnings"]:
                print(f"  warning: {what}")
            for what, why in line["tampered"]:
                print(f"  refused as altered or forged: {what}: {why}")
            if restored:
                print(f"  {name} was restored from a backup: re-sent what it lacked")
    if args.json:
        print(json.dumps(summary, indent=1))
    return 1 if failed else 0


def run_conflicts(args, store) -> int:
    from .store.conflicts import open_conflicts, resolve
    if args.conflicts_command == "resolve":
        c = resolve(store, args.id, args.keep)
        print(json.dumps(c.to_dict()) if args.json else
              f"resolved {c.kind} '{c.title}' {c.field}: kept "
              f"{'the current value' if args.keep == 'current' else repr(c.value)}")
        return 0
    rows = open_conflicts(store)
    if args.json:
        print(json.dumps([c.to_dict() for c in rows], indent=1, ensure_ascii=False))
        return 0
    if not rows:
        print("no open conflicts", file=sys.stderr)
    for c in rows:
        if c.reason == "deleted":
            print(f"{c.id}  {c.kind} '{c.title}' was deleted while {c.device} edited it "
                  f"({c.when}): {c.value}\n            keep the edit (restores it): "
                  f"--keep {c.id}   confirm the delete: --keep current")
        else:
            print(f"{c.id}  {c.kind} '{c.title}' {c.field}: current {c.current!r}; "
                  f"{c.device} wrote {c.value!r} at {c.when}")
    return 0


def run_bundle(args, store) -> int:
    from .sync import bundle
    if args.bundle_command == "export":
        since = None
        if args.since_receipt:
            _, since = bundle.honoured_receipt(store, args.since_receipt)
        counts = bundle.export_bundle(store, args.file, args.for_agency, since,
                                      allow_demo=args.include_demo)
        print(json.dumps(counts) if args.json else
              f"wrote {counts['changes']} changes in {counts['chunks']} chunks to {args.file}"
              + (f" for {counts['for']}" if counts["for"] else ""))
        return 0
    if not args.file.exists():
        raise ValidationError(f"no such file: {args.file}")
    if bundle.is_receipt(args.file):
        agency = bundle.remember_receipt(store, args.file)
        print(f"kept the receipt of {agency}: the next bundle for {agency} holds only what is new")
        return 0
    from .store.identity import UntrustedKey
    try:
        r = bundle.import_bundle(store, args.file, expected=args.trust)
    except UntrustedKey as e:
        if not _confirm_key(e):
            raise
        r = bundle.import_bundle(store, args.file, expected=e.fingerprint)
    missing = (r.expected - r.chunks) if r.expected is not None else None
    if args.json:
        print(json.dumps({"chunks": r.chunks, "applied": r.report.applied,
                          "duplicates": r.report.duplicates, "conflicts": r.report.conflicts,
                          "truncated": r.truncated, "corrupted": r.corrupted,
                          "refused": [[e.tbl, e.rid, why] for e, why in r.report.refused],
                          "receipt": str(r.receipt)}))
    else:
        print(f"imported {r.chunks} chunks from {r.source}: {r.report.applied} changes applied, "
              f"{r.report.duplicates} already here, {r.report.conflicts} new conflicts")
        if r.truncated:
            print("warning: the file is truncated; the whole chunks were imported, ask for the "
                  "bundle again for the rest", file=sys.stderr)
        if r.corrupted:
            print(f"warning: chunks {', '.join(map(str, r.corrupted))} are damaged and were "
                  "refused", file=sys.stderr)
        if missing:
            print(f"warning: {missing} chunks missing", file=sys.stderr)
        for e, why in r.report.refused:
            print(f"  refused: {e.tbl} {e.rid}: {why}")
        print(f"receipt: {r.receipt}")
    return 0


def run(args, db: Path) -> int:
    if args.command == "hub":
        return run_hub(args, db)
    from .store import Store
    with Store.open(db) as store:
        return {"peer": run_peer, "sync": run_sync, "conflicts": run_conflicts,
                "bundle": run_bundle, "keys": run_keys}[args.command](args, store)
