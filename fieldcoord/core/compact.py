# SPDX-License-Identifier: GPL-3.0-or-later
"""Compact JSON text of the change log and rows (core layer).

`json.JSONEncoder.encode` builds a new C encoder on every call, which costs more than encoding a
change's few cells; this module builds one and keeps it.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

_encoder = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
dumps: Callable[[Any], str]
string: Callable[[str], str]        # a text as JSON, as dumps writes it
try:
    from _json import encode_basestring as _c_string
    from _json import make_encoder as _c_make_encoder
except ImportError:              # an interpreter without the C accelerator
    dumps = string = _encoder.encode
else:
    # no circular-reference check (markers=None): the change log holds plain values
    _c_encode = _c_make_encoder(None, _encoder.default, _c_string, None, ":", ",", False, False,
                                True)

    def _c_dumps(value: Any) -> str:
        """`value` as JSON without spaces, non-ASCII kept as it is."""
        if isinstance(value, str):
            return _c_string(value)
        return "".join(_c_encode(value, 0))

    dumps = _c_dumps
    string = _c_string


# (the decoder's scanner: the C one where the accelerator is there)
_scan: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]


def loads(text: str) -> Any:
    """The value of a JSON text, as `json.loads` gives it: the decoder's C scanner called
    directly, without the three Python calls around it (a record's versions are read at every
    edit). Text it does not take whole (surrounding space, an error) goes to `json.loads`."""
    try:
        value, end = _scan(text, 0)
    except StopIteration:
        return json.loads(text)
    return value if end == len(text) else json.loads(text)
