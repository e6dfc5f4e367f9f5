"""A worker's heartbeat: a thread that beats for the trials the worker runs, every
``interval`` seconds, so that nothing its main loop waits on (a sampler, a journal
read, a job, a slow filesystem) can make a live worker look dead.

What a beat is belongs to the storage: Optuna's own ``record_heartbeat`` on an RDB
storage (Optuna fails the silent trials, ``fail_stale_trials``), a counter in a
system attribute on a journal file, which has no heartbeat of its own (the workers
fail the silent trials, ``hpreg.optimizer.workers``).
"""

import threading
from typing import Callable, Set


class Heartbeat:
    """Calls ``beat(trial_id)`` for each tracked trial every ``interval`` seconds,
    from a daemon thread. ``beat`` raising ``gone`` (the trial was finished by
    another worker) stops beating for that trial; any other error skips a beat."""

    def __init__(
        self,
        beat: Callable[[int], None],
        interval: float,
        gone: type = LookupError,
    ):
        self.beat = beat
        self.interval = interval
        self.gone = gone
        self.trials: Set[int] = set()
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.thread = threading.Thread(
            target=self._run, name="hpreg-heartbeat", daemon=True
        )
        self.beats = 0  # rounds beaten, for tests and the journal's counter

    def start(self) -> "Heartbeat":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        if self.thread.is_alive() and threading.current_thread() is not self.thread:
            self.thread.join(timeout=max(1.0, 2 * self.interval))

    def add(self, trial_id: int) -> None:
        """Beat for ``trial_id`` now (in the caller's thread: a trial never runs
        without a first beat) and from the thread from now on."""
        with self.lock:
            self.trials.add(trial_id)
        self._beat_one(trial_id)

    def discard(self, trial_id: int) -> None:
        with self.lock:
            self.trials.discard(trial_id)

    def _run(self) -> None:
        while not self.stopping.wait(self.interval):
            with self.lock:
                trials = sorted(self.trials)
            for trial_id in trials:
                self._beat_one(trial_id)
            self.beats += 1

    def _beat_one(self, trial_id: int) -> None:
        try:
            self.beat(trial_id)
        except self.gone:
            self.discard(trial_id)
        except Exception:  # a failed beat is a missed one; the next may pass
            pass
