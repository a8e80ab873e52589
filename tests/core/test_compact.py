# SPDX-License-Identifier: GPL-3.0-or-later
"""The change log's JSON text is the standard library's compact form, byte for byte: replicas
compare and forward it; and it reads back as the standard library reads it."""
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fieldcoord.core.compact import dumps, loads

_REFERENCE = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner), max_leaves=25)


@given(_VALUES)
def test_dumps_writes_what_the_standard_encoder_writes(value):
    text = dumps(value)
    assert text == _REFERENCE(value)
    assert json.loads(text) == value


def test_dumps_keeps_text_as_it_is_and_escapes_what_json_must():
    assert dumps({"name": "José \"Pepe\" Núñez\n"}) == '{"name":"José \\"Pepe\\" Núñez\\n"}'
    assert dumps(["a", 1, None, True, 2.5]) == '["a",1,null,true,2.5]'


@given(_VALUES, st.sampled_from(["", " ", "\n  "]), st.sampled_from(["", " ", "\t\n"]))
def test_loads_reads_what_the_standard_decoder_reads(value, before, after):
    text = before + json.dumps(value) + after
    assert loads(text) == json.loads(text)


@pytest.mark.parametrize("text", ["", "   ", '{"a":1}x', '{"a":1} 2', "[1,", "nul", '{"a"}',
                                  '"open'])
def test_loads_refuses_what_the_standard_decoder_refuses_with_its_message(text):
    with pytest.raises(json.JSONDecodeError) as ours:
        loads(text)
    with pytest.raises(json.JSONDecodeError) as theirs:
        json.loads(text)
    assert str(ours.value) == str(theirs.value)
