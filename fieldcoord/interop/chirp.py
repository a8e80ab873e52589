# SPDX-License-Identifier: GPL-3.0-or-later
"""Radio channel lists as CHIRP CSV, in and out of the channel library (interop layer).

CHIRP describes a memory by its receive frequency, a duplex (blank for simplex, `+` or `-` with
an offset, `split` with the transmit frequency in Offset, `off` for receive only) and a tone mode
(blank, `Tone`, `TSQL`, `DTCS`, `TSQL-R`, `DTCS-R` or `Cross` with a CrossMode such as
`Tone->DTCS`). fieldcoord keeps a channel as RX and TX frequencies in MHz and RX and TX tones
(`156.7` for CTCSS, `D023` or `D023I` for DCS, `CSQ` or nothing for carrier squelch).

Import also reads the CSV that RT Systems programming software writes (columns Receive
Frequency, Transmit Frequency, Tone Mode, CTCSS, DCS ...). A channel that matches one already in
the library (same name, same RX and TX frequencies) is updated instead of added again.
"""
from __future__ import annotations

import csv
import io
import re
import unicodedata
from pathlib import Path

from ..core.errors import Cancelled, ValidationError
from .exporting import selected, write_atomically
from .report import ExportReport, ImportReport

HEADER = ["Location", "Name", "Frequency", "Duplex", "Offset", "Tone", "rToneFreq", "cToneFreq",
          "DtcsCode", "DtcsPolarity", "RxDtcsCode", "CrossMode", "Mode", "TStep", "Skip",
          "Comment", "URCALL", "RPT1CALL", "RPT2CALL", "DVCODE"]
DIGITAL_MODES = {"DV", "DN", "DMR", "P25", "DIG", "DSTAR", "NXDN", "DPMR", "YSF", "C4FM"}
CHIRP_MODES = {"FM", "NFM", "WFM", "AM", "NAM", "DV", "USB", "LSB", "CW", "RTTY", "DIG", "PKT",
               "NCW", "NCWR", "CWR", "P25", "AUTO", "RTTYR", "FSK", "FSKR", "DMR", "DN"}
# A transmit frequency this far from the receive one is written as `split`, not an offset.
SPLIT_MHZ = 100.0
_MODE_TAG = re.compile(r"\s*\[([A-Z0-9]+)\]$")
_CTCSS = re.compile(r"^\d{2,3}(\.\d)?$")
_DCS = re.compile(r"^D(\d{3})([NI]?)$", re.I)


def _decode(path: Path) -> str:
    data = path.read_bytes()
    for enc in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def _mhz(text: str) -> float | None:
    """A frequency in MHz from '146.520000', '600 kHz' or '5.00000 MHz'; None when blank."""
    t = (text or "").strip().lower().replace(",", ".")
    if not t:
        return None
    factor = 1.0
    if t.endswith("khz"):
        t, factor = t[:-3], 0.001
    elif t.endswith("mhz"):
        t = t[:-3]
    elif t.endswith("hz"):
        t, factor = t[:-2], 0.000001
    return round(float(t.strip()) * factor, 6)


def _freq_name(mhz: float) -> str:
    """The name of a memory that has none: its frequency (146.52)."""
    return f"{mhz:.6f}".rstrip("0").rstrip(".")


def _tone(text: str) -> str:
    """'100.0 Hz' -> '100.0'; ValueError if not a CTCSS tone."""
    t = (text or "").strip().lower().removesuffix("hz").strip()
    x = float(t)
    if not 60.0 <= x <= 260.0:
        raise ValueError(f"'{text}' is not a CTCSS tone in Hz")
    return f"{x:.1f}"


def _dcs(code: str, polarity: str = "N") -> str:
    digits = re.sub(r"\D", "", code or "")
    if not digits or len(digits) > 3:
        raise ValueError(f"'{code}' is not a DCS code")
    return f"D{int(digits):03d}" + ("I" if polarity.upper() in ("R", "I") else "")


def _chirp_tones(row: dict) -> tuple[str | None, str | None]:
    """(tx tone, rx tone) of a CHIRP row."""
    mode = (row.get("Tone") or "").strip()
    pol = ((row.get("DtcsPolarity") or "NN").strip().upper() + "NN")[:2]
    rtone, ctone = row.get("rToneFreq", ""), row.get("cToneFreq", "")
    code, rx_code = row.get("DtcsCode", ""), row.get("RxDtcsCode") or row.get("DtcsCode", "")
    if mode == "":
        return None, None
    if mode == "Tone":
        return _tone(rtone), None
    if mode == "TSQL":
        t = _tone(ctone or rtone)
        return t, t
    if mode == "TSQL-R":
        return None, _tone(ctone or rtone)
    if mode == "DTCS":
        return _dcs(code, pol[0]), _dcs(code, pol[1])
    if mode == "DTCS-R":
        return None, _dcs(code, pol[1])
    if mode == "Cross":
        cross = (row.get("CrossMode") or "Tone->Tone").strip()
        tx_kind, _, rx_kind = cross.partition("->")
        tx = {"Tone": lambda: _tone(rtone), "DTCS": lambda: _dcs(code, pol[0]),
              "": lambda: None}.get(tx_kind)
        rx = {"Tone": lambda: _tone(ctone), "DTCS": lambda: _dcs(rx_code, pol[1]),
              "": lambda: None}.get(rx_kind)
        if tx is None or rx is None:
            raise ValueError(f"CrossMode '{cross}' is not one CHIRP writes")
        return tx(), rx()
    raise ValueError(f"Tone '{mode}' is not a CHIRP tone mode")


def _mode(chirp_mode: str) -> tuple[str, str | None]:
    """(channel mode, tag kept in the remarks) of a CHIRP mode; FM needs no tag."""
    m = (chirp_mode or "FM").strip().upper().replace(" NARROW", "N").replace("FMN", "NFM")
    if not m or m == "FM":
        return "analog", None
    return ("digital" if m in DIGITAL_MODES else "analog"), m


def _remarks(comment: str, tag: str | None) -> str | None:
    text = " ".join((comment or "").split())
    if tag:
        text = f"{text} [{tag}]".strip()
    return text or None


def _chirp_row(row: dict) -> dict | None:
    """Channel values of a CHIRP memory; None for an empty memory; ValueError says why not."""
    rx = _mhz(row.get("Frequency", ""))
    if rx is None:
        return None
    duplex = (row.get("Duplex") or "").strip().lower()
    offset = _mhz(row.get("Offset", "")) or 0.0
    tx = {"": lambda: rx, "+": lambda: rx + offset, "-": lambda: rx - offset,
          "split": lambda: offset, "off": lambda: None}.get(duplex)
    if tx is None:
        raise ValueError(f"Duplex '{row.get('Duplex')}' is not blank, +, -, split or off")
    tx_freq = tx()
    tx_tone, rx_tone = _chirp_tones(row)
    mode, tag = _mode(row.get("Mode", ""))
    return {"name": (row.get("Name") or "").strip() or _freq_name(rx), "rx_freq": rx,
            "tx_freq": round(tx_freq, 6) if tx_freq is not None else None,
            "tx_tone": tx_tone, "rx_tone": rx_tone if rx_tone else ("CSQ" if tx_tone else None),
            "mode": mode, "remarks": _remarks(row.get("Comment", ""), tag)}


def _rt_row(row: dict) -> dict | None:
    """Channel values of an RT Systems memory (same contract as _chirp_row)."""
    rx = _mhz(row.get("Receive Frequency", ""))
    if rx is None:
        return None
    tx = _mhz(row.get("Transmit Frequency", ""))
    if tx is None:
        offset = _mhz(row.get("Offset Frequency", "")) or 0.0
        direction = (row.get("Offset Direction") or "").strip().lower()
        tx = rx + offset if direction == "plus" else rx - offset if direction == "minus" else rx
    tone_mode = (row.get("Tone Mode") or "").strip().lower()
    ctcss, dcs = row.get("CTCSS", ""), row.get("DCS", "")
    if tone_mode in ("", "none", "off"):
        tx_tone = rx_tone = None
    elif tone_mode in ("tone", "tone enc"):
        tx_tone, rx_tone = _tone(ctcss), None
    elif tone_mode in ("t sql", "tsql", "tone sql", "tone squelch"):
        tx_tone = rx_tone = _tone(ctcss)
    elif tone_mode in ("dcs", "d code"):
        tx_tone = rx_tone = _dcs(dcs)
    else:
        raise ValueError(f"Tone Mode '{row.get('Tone Mode')}' is not one this import reads")
    mode, tag = _mode(row.get("Operating Mode", ""))
    return {"name": (row.get("Name") or "").strip() or _freq_name(rx), "rx_freq": rx,
            "tx_freq": round(tx, 6), "tx_tone": tx_tone,
            "rx_tone": rx_tone if rx_tone else ("CSQ" if tx_tone else None),
            "mode": mode, "remarks": _remarks(row.get("Comment", ""), tag)}


def read_channels(path: Path):
    """(line, values or None, problem or None) for every memory of a CHIRP or RT Systems CSV."""
    text = _decode(path)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise ValidationError(f"{path.name}: the file is empty") from None
    except csv.Error as e:
        raise ValidationError(f"{path.name}, line 1: not a CSV file ({e})") from None
    names = [h.strip() for h in header]
    if {"Location", "Name", "Frequency"} <= set(names):
        parse = _chirp_row
    elif {"Receive Frequency", "Name"} <= set(names):
        parse = _rt_row
    else:
        raise ValidationError(f"{path.name}: not a CHIRP CSV: its first line must name the "
                              "columns Location, Name, Frequency, Duplex, Offset, Tone ... "
                              f"(found {', '.join(n for n in names[:6] if n) or 'none'})")
    out = []
    try:
        for cells in reader:
            line = reader.line_num
            if not any(c.strip() for c in cells):
                continue
            row = dict(zip(names, cells))
            try:
                out.append((line, parse(row), None))
            except ValueError as e:
                msg = str(e)
                if msg.startswith("could not convert") or "invalid literal" in msg:
                    msg = "a frequency or tone is not a number"
                out.append((line, None, msg))
    except csv.Error as e:
        raise ValidationError(f"{path.name}, line {reader.line_num}: {e}") from None
    return out


def _same_freq(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(float(a) - float(b)) < 0.0000005


def _key(values: dict) -> tuple:
    tx = values.get("tx_freq")
    return ((values.get("name") or "").casefold(), round(float(values["rx_freq"]), 6)
            if values.get("rx_freq") is not None else None,
            round(float(tx), 6) if tx is not None else None)


def _differences(rec, values: dict) -> dict:
    return {k: values.get(k) for k in ("tx_tone", "rx_tone", "mode", "remarks")
            if (values.get(k) or None) != (rec.values.get(k) or None)}


def _match(candidates: list, values: dict, claimed: set):
    """The channel a memory updates: one identical to it, else one with the same name and
    frequencies not yet matched by this import (a list may hold one repeater twice, with two
    tones: those stay two channels)."""
    for rec in candidates:
        if not _differences(rec, values):
            return rec
    for rec in candidates:
        if rec.id not in claimed:
            return rec
    return None


def import_files(store, paths, options: dict, progress=None, cancelled=None) -> ImportReport:
    """Import CHIRP (or RT Systems) CSV memories into the channel library."""
    report = ImportReport("chirp")
    kind = options.get("kind")
    if kind and kind.strip().lower() not in ("channel", "channels"):
        raise ValidationError(f"CHIRP files import as channels, not as '{kind}'")
    code = (options.get("agency") or "").strip().upper() or None
    if code and store.agency_id(code) is None:
        raise ValidationError(f"--agency: no agency with code '{code}'")
    files = [(Path(p), read_channels(Path(p))) for p in paths]
    existing: dict[tuple, list] = {}
    for r in store.list("channel"):
        existing.setdefault(_key(r.values), []).append(r)
    claimed: set[str] = set()       # records matched by a memory of this import
    total = sum(len(rows) for _, rows in files)
    done = 0
    for path, rows in files:
        empty = 0
        for line, values, problem in rows:
            done += 1
            if cancelled and cancelled():
                raise Cancelled("import cancelled")
            if progress and (done % 200 == 0 or done == total):
                progress("Importing channels", done, total)
            if problem:
                report.skip(path, line, problem)
                continue
            if values is None:
                empty += 1
                continue
            if code:
                values["agency"] = code
            if options.get("scope"):
                values["scope"] = options["scope"]
            key = _key(values)
            rec = _match(existing.get(key, []), values, claimed)
            try:
                with store.transaction():
                    if rec is None:
                        rid = store.add("channel", {k: v for k, v in values.items()
                                                    if v is not None})
                        existing.setdefault(key, []).append(store.get(rid, "channel"))
                        claimed.add(rid)
                        report.add("channel")
                        continue
                    claimed.add(rec.id)
                    change = _differences(rec, values)
                    if code and rec.values.get("agency") != store.agency_id(code):
                        change["agency"] = code
                    if change:
                        edited = store.edit(rec.id, change)
                        existing[key] = [edited if r.id == rec.id else r for r in existing[key]]
                        report.update("channel")
                    else:
                        report.same("channel")
            except ValidationError as e:
                report.skip(path, line, f"'{values['name']}': {e}")
        if empty:
            report.notes.append(f"{path.name}: {empty} empty memories ignored")
    return report


# ------------------------------------------------------------------ export

# Tuning steps in kHz, in the order CHIRP tries them (chirp_common.required_step): 12.5 before
# 6.25, so 851.0125 MHz (8CALL90) takes 12.5, which a Yaesu FT-60 has and 6.25 it has not.
# 10 kHz never wins after 5.
CHIRP_STEPS = (5.0, 10.0, 12.5, 6.25, 2.5, 1.0, 0.5, 8.33, 0.25)


def _on_step(hz: int, step: float) -> bool:
    if step == 8.33:                        # airband 8.33 kHz channels: 25 kHz split in three
        return hz % 25000 in (0, 8330, 16660)
    return hz % round(step * 1000) == 0


def _step(*freqs) -> str:
    """TStep: the first of CHIRP's steps that reaches every frequency given (in MHz)."""
    hzs = [round(f * 1_000_000) for f in freqs if f is not None]
    for step in CHIRP_STEPS:
        if all(_on_step(hz, step) for hz in hzs):
            return f"{step:.2f}"
    return "5.00"


# ------------------------------------------------------------------ short names

NAME_LENGTHS = range(5, 17)      # radios show 6 to 8 characters; CHIRP knows up to 16
_VOWELS = frozenset("AEIOUaeiou")


def name_length(options: dict) -> int | None:
    """options["name_length"] as a whole number of characters, None when not given."""
    raw = options.get("name_length")
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    text = str(raw).strip()
    if isinstance(raw, bool) or not re.fullmatch(r"\d+", text):
        raise ValidationError(f"name length '{raw}' is not a whole number of characters "
                              f"({NAME_LENGTHS.start} to {NAME_LENGTHS.stop - 1})")
    n = int(text)
    if n not in NAME_LENGTHS:
        raise ValidationError(f"name length {n} is out of range: radios show "
                              f"{NAME_LENGTHS.start} to {NAME_LENGTHS.stop - 1} characters")
    return n


def _plain(text: str) -> str:
    """Text as ASCII, accents dropped, spaces collapsed (what a radio display can show)."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if c.isascii() and (c.isprintable() or c.isspace()))
    return " ".join(text.split())


def short_name(name: str, length: int) -> str:
    """A channel name in at most `length` characters, shortened the way people shorten them:
    punctuation and then spaces go, then vowels inside the longest words (FIRE -> FR, TAC ->
    TC), then letters at the end of the longest words; numbers stay whole as long as they fit
    (HC FIRE TAC 2 -> HCFRTC2, 8CALL90 -> 8CLL90)."""
    text = _plain(name)
    if len(text) <= length:
        return text
    # words, each a list of runs of letters or of digits
    words = [re.findall(r"[A-Za-z]+|\d+", w) for w in re.split(r"[^A-Za-z0-9]+", text)]
    words = [w for w in words if w]
    if not words:
        return text[:length]
    spaced = " ".join("".join(w) for w in words)
    if len(spaced) <= length:
        return spaced
    runs = [run for w in words for run in w]

    def size() -> int:
        return sum(len(r) for r in runs)

    def longest(can) -> int | None:
        """The longest run of letters `can(run)` lets shorten (the first of equals)."""
        best = None
        for i, run in enumerate(runs):
            if run.isalpha() and can(run) and (best is None or len(run) > len(runs[best])):
                best = i
        return best

    while size() > length:                  # vowels out of the longest word first
        i = longest(lambda r: len(r) > 2 and any(c in _VOWELS for c in r[1:]))
        if i is None:
            break
        runs[i] = runs[i][0] + "".join(c for c in runs[i][1:] if c not in _VOWELS)
    while size() > length:                  # then letters off the end of the longest word
        i = longest(lambda r: len(r) > 1)
        if i is None:
            break
        runs[i] = runs[i][:-1]
    return "".join(runs)[:length]


def short_names(names: list[str], length: int) -> list[str]:
    """Short names for a list of channels, unique in it (case aside, as radios show capitals):
    a name whose short form another one already took gets a digit (HCFRDS2), after a hyphen
    when it ends in a number (VT11-2)."""
    bases = [short_name(n, length) for n in names]
    taken = {b.casefold() for b in bases}
    used: set[str] = set()
    out = []
    for name, base in zip(names, bases):
        pick, k = base, 1
        while pick.casefold() in used or (k > 1 and pick.casefold() in taken):
            k += 1
            mark = str(k)
            if len(mark) >= length:
                raise ValidationError(f"too many channels are named like '{name}' to give "
                                      f"each a name of {length} characters")
            stem = short_name(name, length - len(mark))
            if stem[-1:].isdigit():
                stem = short_name(name, length - len(mark) - 1) + "-"
            pick = stem + mark
        used.add(pick.casefold())
        out.append(pick)
    return out


def _parse_tone(text: str | None):
    """('tone', '156.7'), ('dcs', ('023', 'N')), or None for no tone (CSQ, NAC, blank)."""
    t = (text or "").strip().upper()
    if _CTCSS.match(t):
        return "tone", f"{float(t):.1f}"
    m = _DCS.match(t)
    if m:
        return "dcs", (m.group(1), "R" if m.group(2) == "I" else "N")
    return None


def chirp_row(location: int, rec) -> tuple[dict, list[str]]:
    """One channel as a CHIRP CSV row, and what it could not carry."""
    v = rec.values
    lost = []
    rx, tx = v.get("rx_freq"), v.get("tx_freq")
    row = dict.fromkeys(HEADER, "")
    row.update({"Location": str(location), "Name": v["name"], "rToneFreq": "88.5",
                "cToneFreq": "88.5", "DtcsCode": "023", "DtcsPolarity": "NN",
                "RxDtcsCode": "023", "CrossMode": "Tone->Tone"})
    row["Frequency"] = f"{rx:.6f}"
    if tx is None:
        row["Duplex"], row["Offset"] = "off", "0.000000"
    elif _same_freq(tx, rx):
        row["Duplex"], row["Offset"] = "", "0.000000"
    elif abs(tx - rx) >= SPLIT_MHZ:
        row["Duplex"], row["Offset"] = "split", f"{tx:.6f}"
    else:
        row["Duplex"] = "+" if tx > rx else "-"
        row["Offset"] = f"{abs(tx - rx):.6f}"
    txt, rxt = _parse_tone(v.get("tx_tone")), _parse_tone(v.get("rx_tone"))
    for name in ("tx_tone", "rx_tone"):
        raw = (v.get(name) or "").strip().upper()
        if raw and raw != "CSQ" and _parse_tone(raw) is None:
            lost.append(f"{name} {v.get(name)} (CHIRP has no NAC)")
    if txt is None and rxt is None:
        row["Tone"] = ""
    elif txt and rxt is None and txt[0] == "tone":
        row["Tone"], row["rToneFreq"] = "Tone", txt[1]
    elif txt and txt == rxt and txt[0] == "tone":
        row["Tone"], row["rToneFreq"], row["cToneFreq"] = "TSQL", txt[1], txt[1]
    elif txt and rxt and txt[0] == rxt[0] == "dcs" and txt[1][0] == rxt[1][0]:
        row["Tone"], row["DtcsCode"] = "DTCS", txt[1][0]
        row["RxDtcsCode"] = txt[1][0]
        row["DtcsPolarity"] = txt[1][1] + rxt[1][1]
    else:
        row["Tone"] = "Cross"
        pol = ["N", "N"]
        if txt and txt[0] == "tone":
            row["rToneFreq"] = txt[1]
        elif txt:
            row["DtcsCode"], pol[0] = txt[1]
        if rxt and rxt[0] == "tone":
            row["cToneFreq"] = rxt[1]
        elif rxt:
            row["RxDtcsCode"], pol[1] = rxt[1]
        row["DtcsPolarity"] = "".join(pol)
        row["CrossMode"] = ({"tone": "Tone", "dcs": "DTCS"}[txt[0]] if txt else "") + "->" + \
            ({"tone": "Tone", "dcs": "DTCS"}[rxt[0]] if rxt else "")
    comment = v.get("remarks") or ""
    m = _MODE_TAG.search(comment)
    if m and m.group(1) in CHIRP_MODES:
        row["Mode"], comment = m.group(1), comment[:m.start()]
    else:
        row["Mode"] = "FM" if (v.get("mode") or "analog") != "digital" else "DIG"
    row["Comment"] = " ".join(comment.split())
    row["TStep"] = _step(rx, tx)
    return row, lost


def _selected(store, options: dict) -> list:
    return selected(store, "channel", options)


def export_file(store, path, options: dict, progress=None, cancelled=None) -> ExportReport:
    """Write channels of the library as a CHIRP CSV (memories numbered from 1).

    options["name_length"] (5 to 16) writes names of at most that many characters, unique in
    the file, for radios with short displays; each shortened name's full one leads its Comment.
    """
    report = ExportReport("chirp", str(path))
    kind = options.get("kind")
    if kind and kind.strip().lower() not in ("channel", "channels"):
        raise ValidationError(f"CHIRP files hold channels, not '{kind}'")
    length = name_length(options)
    records = _selected(store, options)
    tuned = [rec for rec in records if rec.values.get("rx_freq") is not None]
    # a name with nothing a radio can show (消防) is named by its frequency
    names = short_names([rec.values["name"] if _plain(rec.values["name"])
                         else _freq_name(rec.values["rx_freq"]) for rec in tuned],
                        length) if length else None
    buf = io.StringIO(newline="")
    writer = csv.DictWriter(buf, fieldnames=HEADER, lineterminator="\r\n")
    writer.writeheader()
    location = 0
    shortened = 0
    for n, rec in enumerate(records, 1):
        if cancelled and cancelled():
            raise Cancelled("export cancelled")
        if progress and (n % 200 == 0 or n == len(records)):
            progress("Exporting channels", n, len(records))
        if rec.values.get("rx_freq") is None:
            report.skipped.append(_problem(rec, "it has no RX frequency"))
            continue
        location += 1
        row, lost = chirp_row(location, rec)
        if names is not None:
            short = names[location - 1]
            if short != row["Name"]:
                shortened += 1
                row["Comment"] = f"{row['Name']}: {row['Comment']}" if row["Comment"] \
                    else row["Name"]
                row["Name"] = short
        writer.writerow(row)
        report.written["channel"] += 1
        for what in lost:
            report.notes.append(f"{rec.values['name']}: {what} not written")
    if shortened:
        report.notes.append(f"{shortened} channel name(s) shortened to {length} characters, "
                            "unique in the file; each full name leads its Comment")
    write_atomically(Path(path), buf.getvalue().encode("utf-8"))
    return report


def _problem(rec, reason: str):
    from .report import Problem
    return Problem(rec.values.get("name") or rec.id, None, reason)
