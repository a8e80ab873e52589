# SPDX-License-Identifier: GPL-3.0-or-later
"""Background tasks: results, plain-word errors and cancel arrive on the GUI thread."""
import time

from PySide6.QtCore import QTimer

from fieldcoord.core.errors import Cancelled, ValidationError
from fieldcoord.ui.tasks import Task


def test_result_and_progress_arrive_while_the_gui_keeps_running(qtbot):
    ticks = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start(10)
    seen = []

    def work(progress, cancel):
        for i in range(5):
            time.sleep(0.05)
            progress("working", i + 1, 5)
        return 42

    task = Task(work, "test")
    task.progressed.connect(lambda label, v, m: seen.append(v))
    with qtbot.waitSignal(task.succeeded, timeout=5000) as blocker:
        task.start()
    timer.stop()
    assert blocker.args == [42] and task.state == "succeeded"
    assert seen[-1] == 5
    assert len(ticks) >= 5      # the event loop went on during the 250 ms of work


def test_errors_are_plain_words(qtbot):
    def work(progress, cancel):
        raise ValidationError("phone: not a number")

    task = Task(work)
    with qtbot.waitSignal(task.failed, timeout=5000) as blocker:
        task.start()
    assert blocker.args == ["phone: not a number"]
    assert "Traceback" not in blocker.args[0]


def test_cancel_stops_the_work(qtbot):
    def work(progress, cancel):
        while not cancel.wait(0.01):
            pass
        raise Cancelled("stopped")

    task = Task(work)
    task.start()
    with qtbot.waitSignal(task.cancelled, timeout=5000):
        task.cancel()
    assert task.state == "cancelled"


def test_a_task_is_kept_alive_until_its_thread_has_ended(qtbot):
    """Dropping a task when it ends must not destroy a thread that is still returning (Qt
    aborts the process when a running QThread is destroyed)."""
    import gc
    seen = []
    for _ in range(20):
        task = Task(lambda progress, cancel: 1)
        worker = task._worker
        task.finished.connect(lambda w=worker, t=task: seen.append(
            w.isFinished() or any(x is t for x in Task._running)))
        task.start()
        qtbot.waitUntil(lambda t=task: t.state == "succeeded", timeout=5000)
        task = None                     # the test lets go of the task
        gc.collect()
        qtbot.waitUntil(lambda w=worker: w.isFinished(), timeout=5000)
    assert seen == [True] * 20
