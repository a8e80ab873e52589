# SPDX-License-Identifier: GPL-3.0-or-later
"""Interoperability channels of the national library (NIFOG) are picked, not typed."""
from fieldcoord.ui.dialogs import RecordDialog


def test_a_national_channel_is_picked_from_the_library_for_a_comms_plan(demo_store, qtbot):
    op = demo_store.list("operation")[0]
    assert not demo_store.list("channel", {"name": "VTAC13"})
    d = RecordDialog(demo_store, "comms", preset={"operation": op.id})
    qtbot.addWidget(d)
    picker = d.editors["channel"]
    i = picker.findData("nifog:VTAC13")
    assert i > 0 and "national channel" in picker.itemText(i)
    assert picker.findData("nifog:VTAC11") < 0, "already in the demo directory: listed once"
    picker.setCurrentIndex(i)
    d.editors["assignment"].setText("Ground tactical, upper valley")
    d.save()
    assert d.result() == d.DialogCode.Accepted, d.message.text()
    row = demo_store.get(d.saved_id)
    channel = demo_store.get(row.values["channel"])
    assert (channel.title, channel.values["rx_freq"], channel.owner) == \
        ("VTAC13", 158.7375, demo_store.home)
    assert channel.id in d.changes.ids, "the new channel is shown afresh too"
