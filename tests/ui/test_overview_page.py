# SPDX-License-Identifier: GPL-3.0-or-later
"""The Overview page: it is the home page, its plots hold the demo's numbers, clicking a bar
opens the matching list, and plots and the readiness table export."""
import csv
import datetime as dt

import pytest

from fieldcoord.store import overview as data


@pytest.fixture
def overview(window, qtbot):
    page = window.go("overview")
    page.ensure_built()
    return page


def test_the_window_opens_on_the_overview_with_its_plots_and_alerts(window, overview):
    assert window.current_page == "overview"
    assert overview.built and overview.alerts.shown, "the alerts are on the home page too"
    bars = data.resources_by_status(window.store.conn)
    drawn = overview.resources.series["available"]
    assert [h for _, h in drawn] == bars.counts["available"]
    days = data.requests_over_time(window.store.conn)
    assert overview.requests.series["urgent"] == [(d.day.isoformat(), d.urgent)
                                                  for d in days if d.urgent]
    spans = data.agreement_timeline(window.store.conn, dt.date.today())
    assert len([b for b in overview.agreements.bars]) == len(spans)
    shares = dict(overview.freshness.series["share"])
    fresh = {f.code: round(f.share * 100) for f in data.freshness(
        window.store.conn, 180, dt.date.today())}
    assert shares == fresh
    assert overview.peers.note.text().startswith("No peers yet")
    assert overview.table.rowCount() == window.store.count("agency")


def test_clicking_a_bar_opens_the_list_filtered_to_it(window, overview, qtbot):
    chart = overview.resources
    x0, x1, y0, y1, opens = next(b for b in chart.bars if b[4][1]["status"] == "assigned")
    agency = opens[1]["agency"]
    assert chart.click_at((x0 + x1) / 2, (y0 + y1) / 2)
    assert window.current_page == "resources"
    lst = window.pages["resources"].current()
    qtbot.waitUntil(lambda: lst.model.rowCount() > 0, timeout=3000)
    rows = [window.store.get(r.id) for r in lst.model.rows]
    assert rows and all(r.values["agency"] == agency and r.values["status"] == "assigned"
                        for r in rows)
    assert lst.filters["agency"].currentData() == agency
    assert not chart.click_at(-5, -5), "outside every bar: nothing opens"


def test_an_agreement_bar_opens_that_agreement(window, overview):
    span = data.agreement_timeline(window.store.conn, dt.date.today())[0]
    x0, x1, y0, y1, _ = overview.agreements.bars[0]
    overview.agreements.click_at((x0 + x1) / 2, (y0 + y1) / 2)
    assert window.current_page == "agreements" and window.selected_id() == span.id


def test_plots_save_as_png_and_readiness_as_csv_and_pdf(overview, tmp_path):
    overview.requests.write_png(tmp_path / "requests.png")
    assert (tmp_path / "requests.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    overview.write_csv(tmp_path / "readiness.csv")
    with (tmp_path / "readiness.csv").open(encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert rows[0] == list(data.READINESS_COLUMNS) and len(rows) == len(overview.rows) + 1
    assert any(r[0] == "KBFD" for r in rows)
    overview.write_pdf(tmp_path / "readiness.pdf")
    from pypdf import PdfReader
    text = " ".join(" ".join(p.extract_text().split())
                    for p in PdfReader(tmp_path / "readiness.pdf").pages)
    assert "Readiness per partner" in text and "KBFD" in text
