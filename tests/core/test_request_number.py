# SPDX-License-Identifier: GPL-3.0-or-later
"""A new resource request is offered its agency's next number of the year (CODE-YEAR-NNN)."""
import datetime as dt
import subprocess
import sys

import pytest

from fieldcoord.core.request_number import next_request_number, request_number, sequence_of

DAY = dt.date(2026, 11, 24)


def test_the_first_request_of_the_year_is_number_one():
    assert next_request_number("HCEM", [], DAY) == "HCEM-2026-001"
    assert next_request_number(" hcem ", [None, ""], DAY) == "HCEM-2026-001", "code as stored"


def test_the_next_number_follows_the_highest_of_that_agency_and_year():
    used = ["HCEM-2026-001", "HCEM-2026-007", "hcem-2026-003",      # case as typed
            "HCEM-2025-040",                                         # last year's
            "HCFD3-2026-090",                                        # another agency's
            "HCEM-2026-DRAFT", "TRF-001", None]                      # other forms
    assert next_request_number("HCEM", used, DAY) == "HCEM-2026-008"
    assert next_request_number("HCFD3", used, DAY) == "HCFD3-2026-091"


def test_a_code_that_is_the_start_of_another_is_not_confused_with_it():
    assert next_request_number("HC", ["HCEM-2026-005", "HC-EM-2026-002"], DAY) == "HC-2026-001"
    assert next_request_number("HC-EM", ["HC-EM-2026-002"], DAY) == "HC-EM-2026-003"


def test_the_sequence_grows_past_three_digits():
    assert next_request_number("CFD", ["CFD-2026-999"], DAY) == "CFD-2026-1000"
    assert sequence_of("CFD-2026-1000", "CFD", 2026) == 1000
    assert request_number("cfd", 2027, 12) == "CFD-2027-012"


def test_the_year_is_today_when_not_given():
    assert next_request_number("CFD", []).startswith(f"CFD-{dt.date.today().year}-")


def test_an_agency_code_is_needed():
    with pytest.raises(ValueError):
        next_request_number("  ", [], DAY)


def test_the_module_needs_no_qt():
    code = ("import sys, fieldcoord.core.request_number, fieldcoord.core.validate; "
            "assert 'PySide6' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)
