"""Ctrl-C that waits: clean-up that must finish even when the learner presses it again.

A first Ctrl-C stops training; the clean-up that follows (restoring a model, writing a record) must
complete, or the learner is left with half-restored state. Inside :class:`deferred_interrupts`
a SIGINT is noted instead of raised, and ``KeyboardInterrupt`` is raised when the block ends.
"""

from __future__ import annotations

import signal
import threading


class deferred_interrupts:  # noqa: N801 - used like a function: ``with deferred_interrupts():``
    """Hold off KeyboardInterrupt (SIGINT) until the block ends, then raise it if one came.

    Python delivers signals to the main thread only, so in another thread the block simply runs. If
    the block itself raises, that exception wins. ``raise_after=False`` only holds the interrupt off,
    for clean-up that runs while a first KeyboardInterrupt is being handled and will be re-raised.

    Example::

        try:
            train()
        finally:
            with deferred_interrupts():
                restore()        # a second Ctrl-C now waits until restore() is done
    """

    def __init__(self, raise_after: bool = True):
        self.raise_after = raise_after

    def __enter__(self) -> deferred_interrupts:
        self.received = False
        self._previous = None
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._note)
        return self

    def _note(self, signum, frame) -> None:
        self.received = True

    def __exit__(self, exc_type, exc, traceback) -> bool:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
        if self.received and self.raise_after and exc_type is None:
            raise KeyboardInterrupt
        return False
