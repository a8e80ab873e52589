# SPDX-License-Identifier: GPL-3.0-or-later
"""Reading text files of unknown origin: encoding and CSV delimiter detection (interop layer).

Files come from phones, mail clients and spreadsheets on every system: UTF-8 with or without a
byte order mark, UTF-16 (Windows "Unicode text"), Windows code pages, Shift-JIS from Japanese
Windows. `decode` tells them apart with a BOM, then strict UTF-8, then heuristics over the bytes;
the caller may name the encoding instead when a guess is wrong.
"""
from __future__ import annotations

import codecs
import re
from pathlib import Path

from ..core.errors import ValidationError

_BOMS = ((codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
         (codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"),
         (codecs.BOM_UTF16_BE, "utf-16-be"))
_JAPANESE = re.compile(r"[\u3000-\u30ff\u31f0-\u31ff\u4e00-\u9fff\uff00-\uffef]")
_ASCII_LETTER = re.compile(r"[A-Za-z]")


def check_encoding(name: str) -> str:
    """The codec name for `name`, or a ValidationError naming the unknown encoding."""
    try:
        return codecs.lookup(name.strip()).name
    except (LookupError, AttributeError):
        raise ValidationError(f"unknown text encoding '{name}'; use a name such as utf-8, "
                              "utf-16, cp1252, cp1251 or shift_jis") from None


def _utf16_without_bom(data: bytes) -> str | None:
    """'utf-16-le'/'utf-16-be' when every other byte of mostly-ASCII text is zero."""
    sample = data[:4000]
    if len(sample) < 4 or len(sample) % 2:
        return None
    even = sample[0::2].count(0)
    odd = sample[1::2].count(0)
    half = len(sample) // 2
    if odd > 0.4 * half and even < 0.05 * half:
        return "utf-16-le"
    if even > 0.4 * half and odd < 0.05 * half:
        return "utf-16-be"
    return None


def _looks_japanese(data: bytes) -> bool:
    """Shift-JIS (cp932) when the bytes decode strictly and read as Japanese words rather than
    Western letters between ASCII ones (a cp1252 'é' inside a word also decodes as a kanji)."""
    try:
        text = data.decode("cp932")
    except UnicodeDecodeError:
        return False
    wide = [i for i, ch in enumerate(text) if ord(ch) > 127]
    if len(wide) < 2:
        return False
    japanese = [i for i in wide if _JAPANESE.match(text[i])]
    if len(japanese) < 0.9 * len(wide):
        return False
    # A Western accented letter decodes to a lone kanji with ASCII letters on both sides.
    lonely = sum(1 for i in japanese
                 if 0 < i < len(text) - 1 and _ASCII_LETTER.match(text[i - 1])
                 and _ASCII_LETTER.match(text[i + 1]))
    return lonely < 0.3 * len(japanese)


def _looks_cyrillic(data: bytes) -> bool:
    """cp1251 when high bytes come in runs of letters (Cyrillic words), not one per word."""
    runs = re.findall(rb"[\xc0-\xff]{3,}", data)
    high = sum(1 for b in data if b >= 0x80)
    return high >= 6 and sum(len(r) for r in runs) > 0.6 * high


def detect(data: bytes) -> tuple[str, int]:
    """(encoding, length of the byte order mark) of a file's bytes."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            return name, len(bom)
    utf16 = _utf16_without_bom(data)
    if utf16:
        return utf16, 0
    try:
        data.decode("utf-8")
        return "utf-8", 0
    except UnicodeDecodeError as e:
        # a file cut in the middle of a character is still UTF-8
        if e.start >= len(data) - 3 and e.reason == "unexpected end of data":
            return "utf-8", 0
    if _looks_japanese(data):
        return "cp932", 0
    if _looks_cyrillic(data):
        return "cp1251", 0
    try:
        data.decode("cp1252")
        return "cp1252", 0
    except UnicodeDecodeError:
        return "latin-1", 0


def decode(data: bytes, encoding: str | None = None) -> tuple[str, str]:
    """(text, encoding used). A named encoding is used as given (a BOM of it is dropped)."""
    if encoding:
        name = check_encoding(encoding)
        if name.startswith("utf-16") or name.startswith("utf-32") or name == "utf-8":
            for bom, bom_name in _BOMS:
                if data.startswith(bom) and bom_name.startswith(name[:6]):
                    if name in ("utf-16", "utf-32"):
                        name = bom_name
                    data = data[len(bom):]
                    break
        try:
            return data.decode(name), name
        except UnicodeDecodeError as e:
            raise ValidationError(f"the file is not valid {name} text (byte {e.start}); try "
                                  "another encoding, or leave it out to detect it") from None
    name, skip = detect(data)
    return data[skip:].decode(name, errors="replace"), name


def read_text(path: str | Path, encoding: str | None = None) -> tuple[str, str]:
    """A text file's content and the encoding it was read with. Raises ValidationError."""
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise ValidationError(f"cannot read {path}: {e.strerror or e}") from None
    return decode(data, encoding)


_DELIMITERS = (",", ";", "\t", "|")


def _count_outside_quotes(line: str, delim: str) -> int:
    n, quoted = 0, False
    for ch in line:
        if ch == '"':
            quoted = not quoted
        elif ch == delim and not quoted:
            n += 1
    return n


def sniff_delimiter(text: str, lines: int = 30) -> str:
    """The field delimiter of CSV text: the candidate that splits most of the first lines into
    the same number of fields (comma when nothing decides)."""
    sample = [ln for ln in text.splitlines()[:lines] if ln.strip()]
    if not sample:
        return ","
    best, best_score = ",", 0.0
    for delim in _DELIMITERS:
        counts = [_count_outside_quotes(ln, delim) for ln in sample]
        used = [c for c in counts if c]
        if not used:
            continue
        common = max(set(used), key=used.count)
        agree = used.count(common)
        # lines agreeing on the count, weighted up when the header agrees too
        score = agree + (0.5 if counts[0] == common else 0) + min(common, 50) / 1000
        if score > best_score:
            best, best_score = delim, score
    return best
