"""Run service calls off the UI thread and bring results back as queued signals.

Every service call from the UI goes through a `TaskRunner`: reads (and
network) on one pool, database writes on another pool of one thread, so
writes never race each other. Results and errors come back on the GUI thread;
a worker never touches a widget.
"""

from __future__ import annotations

import gc
import inspect
import logging
import threading
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, QTimer, Signal, Slot

if TYPE_CHECKING:
    from collections.abc import Callable

log = logging.getLogger(__name__)


class WorkerSignals(QObject):
    """What a worker reports; connected on the GUI thread.

    Signals:
        finished(object): the task's return value.
        failed(object): the exception the task raised.
        progress(int): percentage done, 0 to 100.
    """

    finished = Signal(object)
    failed = Signal(object)
    progress = Signal(int)


class Worker(QRunnable):
    """One call of `fn` on a pool thread.

    When `fn` accepts ``report`` and ``cancelled`` keyword arguments it gets
    them: ``report(pct)`` emits progress, ``cancelled()`` says whether the
    user gave up, so long jobs can stop early. A cancelled worker emits
    neither ``finished`` nor ``failed``.
    """

    def __init__(self, fn: Callable[..., Any], name: str = "") -> None:
        super().__init__()
        self.setAutoDelete(False)  # the runner holds it until its signal is delivered
        self.signals = WorkerSignals()
        self.name = name or getattr(fn, "__name__", "task")
        self._fn = fn
        self._cancel = threading.Event()
        params = _parameters(fn)
        self._wants_state = "report" in params and "cancelled" in params

    def cancel(self) -> None:
        """Ask the task to stop; its result, if any, is dropped."""
        self._cancel.set()

    def is_cancelled(self) -> bool:
        """Whether `cancel()` was called."""
        return self._cancel.is_set()

    def run(self) -> None:
        """Run the task on the pool thread (QRunnable override).

        Always ends with one signal, so the runner forgets the worker; the
        runner drops the result of a cancelled one.
        """
        if self.is_cancelled():
            self.signals.finished.emit(None)
            return
        try:
            if self._wants_state:
                result = self._fn(
                    report=self.signals.progress.emit, cancelled=self.is_cancelled
                )
            else:
                result = self._fn()
        except Exception as exc:  # noqa: BLE001 - every failure goes back to the GUI
            self.signals.failed.emit(exc)
            return
        self.signals.finished.emit(result)


def _parameters(fn: Callable[..., Any]) -> set[str]:
    try:
        return set(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        return set()


class TaskRunner(QObject):
    """The two pools and the workers in flight.

    Args:
        expected_errors: exceptions whose message is written for the user
            (e.g. a database that can't be opened); others are bugs and are
            logged with their traceback.

    Signals:
        busy_changed(bool): some task started (True) or none is left (False).
    """

    busy_changed = Signal(bool)

    def __init__(
        self,
        expected_errors: tuple[type[BaseException], ...] = (),
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.expected_errors = expected_errors
        self._read_pool = QThreadPool(self)
        self._read_pool.setMaxThreadCount(4)
        self._write_pool = QThreadPool(self)
        self._write_pool.setMaxThreadCount(1)  # one writer: no lock contention
        self._active: dict[
            Worker, tuple[Callable[[Any], None], Callable[[BaseException], None] | None]
        ] = {}
        self._closed = False

    @property
    def busy(self) -> bool:
        """Whether a task is queued or running."""
        return bool(self._active)

    def active_count(self) -> int:
        """Number of tasks queued or running."""
        return len(self._active)

    def thread_count(self) -> int:
        """Threads the pools hold (none after `shutdown()`)."""
        return (
            self._read_pool.activeThreadCount() + self._write_pool.activeThreadCount()
        )

    def run_read(
        self,
        fn: Callable[..., Any],
        on_done: Callable[[Any], None],
        on_error: Callable[[BaseException], None] | None = None,
        *,
        on_progress: Callable[[int], None] | None = None,
    ) -> Worker:
        """Run a query on the read pool.

        Args:
            fn: the call, with its arguments bound (e.g. a lambda).
            on_done: gets the result, on the GUI thread.
            on_error: gets the exception; by default it is logged.
            on_progress: gets progress percentages.

        Returns:
            The worker, to cancel it.
        """
        return self._start(self._read_pool, fn, on_done, on_error, on_progress)

    def run_write(
        self,
        fn: Callable[..., Any],
        on_done: Callable[[Any], None],
        on_error: Callable[[BaseException], None] | None = None,
        *,
        on_progress: Callable[[int], None] | None = None,
    ) -> Worker:
        """Run a database write (or an upgrade) on the single-thread write pool."""
        return self._start(self._write_pool, fn, on_done, on_error, on_progress)

    def message_for(self, exc: BaseException) -> str:
        """The text to show the user for a failed task."""
        if isinstance(exc, self.expected_errors):
            return str(exc)
        from o2c_desktop.i18n import _

        return _("Unexpected error: {error}").format(
            error=f"{type(exc).__name__}: {exc}"
        )

    def shutdown(self, timeout_ms: int = 30000) -> bool:
        """Cancel queued tasks, wait for running ones; call on quit.

        Returns:
            Whether every thread finished in time.
        """
        self._closed = True
        for worker in list(self._active):
            worker.cancel()
        self._read_pool.clear()
        self._write_pool.clear()
        done = self._read_pool.waitForDone(timeout_ms) and self._write_pool.waitForDone(
            timeout_ms
        )
        if not done:
            log.warning("Background tasks still running after %d ms", timeout_ms)
        self._active.clear()
        self.busy_changed.emit(False)
        return done

    def _start(
        self,
        pool: QThreadPool,
        fn: Callable[..., Any],
        on_done: Callable[[Any], None],
        on_error: Callable[[BaseException], None] | None,
        on_progress: Callable[[int], None] | None,
    ) -> Worker:
        worker = Worker(fn)
        if self._closed:
            worker.cancel()
            return worker
        was_busy = self.busy
        self._active[worker] = (on_done, on_error)
        # Bound slots of this GUI-thread object: the signals are queued here.
        worker.signals.finished.connect(self._on_worker_finished)
        worker.signals.failed.connect(self._on_worker_failed)
        if on_progress is not None:
            worker.signals.progress.connect(on_progress)
        pool.start(worker)
        if not was_busy:
            self.busy_changed.emit(True)
        return worker

    def _take(self, sender: QObject | None) -> tuple[Worker, Any, Any] | None:
        for worker, callbacks in self._active.items():
            if worker.signals is sender:
                del self._active[worker]
                if not self._active:
                    self.busy_changed.emit(False)
                return (worker, *callbacks)
        return None

    @Slot(object)
    def _on_worker_finished(self, result: object) -> None:
        found = self._take(self.sender())
        if found is None or found[0].is_cancelled():
            return
        found[1](result)

    @Slot(object)
    def _on_worker_failed(self, exc: BaseException) -> None:
        found = self._take(self.sender())
        if found is None or found[0].is_cancelled():
            return
        worker, _on_done, on_error = found
        if not isinstance(exc, self.expected_errors):
            log.error("Task %s failed", worker.name, exc_info=exc)
        if on_error is not None:
            on_error(exc)
        elif isinstance(exc, self.expected_errors):
            log.warning("Task %s failed: %s", worker.name, exc)


class MainThreadGarbageCollector(QObject):
    """Run Python's cyclic garbage collector on the GUI thread only.

    Left automatic, the collector runs in whichever thread allocates: a pool
    thread can then free a Qt object while holding the GIL, waiting for a
    lock the GUI thread holds while it waits for the GIL (a deadlock seen
    here under load). Anki does the same (aqt's GC on the main thread).
    """

    def __init__(self, parent: QObject, interval_ms: int = 2000) -> None:
        super().__init__(parent)
        gc.disable()
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._on_timer_timeout)
        self._timer.start(interval_ms)

    def stop(self) -> None:
        """Collect once more and give the collector back to Python."""
        self._timer.stop()
        gc.collect()
        gc.enable()

    @Slot()
    def _on_timer_timeout(self) -> None:
        # Young generations only on the timer: cheap, and most cycles are young.
        gc.collect(1)
