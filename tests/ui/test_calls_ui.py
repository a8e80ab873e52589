# SPDX-License-Identifier: GPL-3.0-or-later
"""The duty-line check in the app: one key per outcome, the list moves on, the call sheet."""
from PySide6.QtCore import Qt

from fieldcoord.ui.calls import CallListDialog


def test_one_key_per_outcome_and_the_list_moves_on(demo_store, qtbot, tmp_path):
    d = CallListDialog(demo_store)
    qtbot.addWidget(d)
    d.show()
    total = len(d.lines)
    assert total > 10 and d.table.currentRow() == 0
    first = d.lines[0]
    qtbot.keyClick(d, Qt.Key_N)                  # no answer: flagged, stays, next row
    assert d.table.currentRow() == 1 and len(d.lines) == total
    assert next(ln for ln in d.lines if ln.id == first.id).flag == "no_answer"
    second = d.lines[1]
    qtbot.keyClick(d, Qt.Key_R)                  # reached: off the list
    assert second.id not in [ln.id for ln in d.lines] and len(d.lines) == total - 1
    d.write_sheet(tmp_path / "sheet.pdf")
    from pypdf import PdfReader
    text = " ".join(" ".join(p.extract_text().split())
                    for p in PdfReader(tmp_path / "sheet.pdf").pages)
    assert "Duty-line check" in text and (d.lines[0].agency or "") in text


def test_the_window_opens_it_from_the_go_menu(window, qtbot):
    dialog = window.open_call_list()
    assert dialog.isVisible() and dialog.lines
    dialog.close()              # deletes itself on close
