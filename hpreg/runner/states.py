"""The job state machine: the states, every allowed transition, how a job's attempt
ended (``classify``) and what the job becomes after it (``settle``). Every executor
uses these; the store writes each transition as one guarded UPDATE
(``WHERE state = ? AND runner = ?``) that says whether it happened.

::

    queued ──claim (an attempt)──> running ──> done | pruned        (final)
      ^                              │
      │                              ├──> failed  (its own failure; final unless
      │                              │             --max-attempts N was given)
      │                              ├──> lost    (did not end by itself: preempted,
      │                              │             node or worker lost, killed)
      │                              └──> interrupted   (Ctrl-C of its runner)
      │                                     │
      └──── requeue (counted) <─────────────┘  lost/interrupted are claimed again
                                               while attempts remain, else failed
    running ──release (uncounted)──> queued    (an engine would not take it now)
    failed ──--retry-failed──> queued          (a new budget of attempts)

Every attempt counts, whatever ended it: a job past ``max_attempts`` (default 3) is
``failed`` with the reasons of its attempts (``job.history``).

Liveness and timeouts (seconds). A runner on this host is alive while its process
(pid and start time) is; a runner on another host while its heartbeat, written by
a thread every ``HEARTBEAT`` seconds whatever the main loop does, is younger than
``STALE_AFTER``. Every blocking call has a timeout shorter than ``STALE_AFTER``:

==============================================  =======
heartbeat interval (a thread)                    5
a runner looks for dead runners' jobs every      5
a runner on another host is dead after           90
SQLite busy timeout (main loop)                  30
SQLite busy timeout (heartbeat thread)           10
``git status`` / ``git rev-parse`` of a run      20
``sbatch`` / ``sacct`` / ``squeue`` / ``scontrol``  60
dask scheduler connection                        20
a claimed job without a pid file may be starting  2
==============================================  =======
"""

from typing import Dict, FrozenSet, List, Optional, Tuple

QUEUED = "queued"
RUNNING = "running"
DONE = "done"
FAILED = "failed"
INTERRUPTED = "interrupted"
PRUNED = "pruned"
LOST = "lost"

STATES = (QUEUED, RUNNING, DONE, FAILED, INTERRUPTED, PRUNED, LOST)
CLAIMABLE = (QUEUED, INTERRUPTED, LOST)  # taken by claim, oldest first
ENDINGS = (DONE, FAILED, INTERRUPTED, PRUNED, LOST)  # how an attempt can end
DEFAULT_MAX_ATTEMPTS = 3

TRANSITIONS: Dict[str, FrozenSet[str]] = {
    QUEUED: frozenset({RUNNING}),
    RUNNING: frozenset(ENDINGS + (QUEUED,)),
    INTERRUPTED: frozenset({RUNNING}),
    LOST: frozenset({RUNNING}),
    FAILED: frozenset({QUEUED}),
    DONE: frozenset(),
    PRUNED: frozenset(),
}

HEARTBEAT = 5.0
RECOVER_EVERY = 5.0  # how often a runner looks for dead runners' jobs
STALE_AFTER = 90.0
BUSY_TIMEOUT = 30.0
HEARTBEAT_BUSY_TIMEOUT = 10.0
GIT_TIMEOUT = 20.0
ENGINE_COMMAND_TIMEOUT = 60.0
CONNECT_TIMEOUT = 20.0
LAUNCH_GRACE = 2.0


def allowed(old: str, new: str) -> bool:
    """Whether a job may go from ``old`` to ``new``."""
    return new in TRANSITIONS.get(old, ())


class Outcome:
    """How one attempt ended: ``state`` (one of ``ENDINGS``) and the reason in
    words (None for a job that is done)."""

    __slots__ = ("state", "reason")

    def __init__(self, state: str, reason: Optional[str] = None):
        self.state = state
        self.reason = reason

    def __repr__(self):
        return "Outcome({!r}, {!r})".format(self.state, self.reason)

    def __eq__(self, other):
        return isinstance(other, Outcome) and (self.state, self.reason) == (
            other.state,
            other.reason,
        )


def classify(
    code: Optional[int],
    *,
    interrupted: bool = False,
    lost: bool = False,
    engine_reason: Optional[str] = None,
    timed_out: Optional[float] = None,
    prune_acknowledged: bool = False,
) -> Outcome:
    """How a job's attempt ended, from what its executor saw.

    ``code`` is the exit status its wrapper wrote (None: it wrote none);
    ``interrupted``: its runner stopped it (Ctrl-C); ``lost``: the engine ended it
    without it ending by itself (preempted, node or worker gone); ``engine_reason``:
    the engine's word for an end without exit status (``time limit``, ``killed its
    worker``); ``timed_out``: hpreg's ``--timeout`` (seconds) stopped it;
    ``prune_acknowledged``: its ``report()`` saw the optimizer's prune and ended it
    (a job that ends normally after the prune marker appeared is done)."""
    if interrupted and code != 0:
        return Outcome(INTERRUPTED, "interrupted")
    if lost:
        return Outcome(LOST, engine_reason or "lost by its executor")
    if timed_out is not None:
        return Outcome(FAILED, "timed out after {:g} s".format(timed_out))
    if prune_acknowledged:
        return Outcome(PRUNED, "pruned by the optimizer")
    if code == 0:
        return Outcome(DONE)
    if code is None:
        if engine_reason:
            return Outcome(FAILED, engine_reason)
        return Outcome(LOST, "ended without an exit status (killed)")
    return Outcome(FAILED, "exit code {}".format(code))


def settle(
    outcome: Outcome,
    tries: int,
    max_attempts: int,
    retry_failures: bool = False,
    stopping: bool = False,
) -> str:
    """The state a job is recorded in after an attempt that ended as ``outcome``,
    its ``tries``-th of at most ``max_attempts``: ``queued`` for another attempt
    in this run, ``lost``/``interrupted`` for one in the next run (this one is
    stopping), or a final state."""
    state = outcome.state
    if state in (DONE, PRUNED):
        return state
    if state == FAILED:
        if retry_failures and tries < max_attempts and not stopping:
            return QUEUED
        return FAILED
    if tries >= max_attempts:
        return FAILED
    return state if stopping else QUEUED


def attempts_summary(history: List[Dict], tries: int) -> str:
    """``failed after 3 attempts: 1 lost (slurm: NODE_FAIL); 2 ...`` from the last
    ``tries`` entries of a job's history."""
    recent = history[-tries:] if tries else history
    parts = [
        "{} {}".format(entry.get("attempt", "?"), _entry_text(entry))
        for entry in recent
    ]
    return "failed after {} attempt{}: {}".format(
        len(recent), "" if len(recent) == 1 else "s", "; ".join(parts)
    )


def _entry_text(entry: Dict) -> str:
    reason = entry.get("reason")
    if not reason or reason == entry.get("state"):
        return entry.get("state", "?")
    return "{} ({})".format(entry.get("state", "?"), reason.splitlines()[0])


def max_attempts_of(value: Optional[int]) -> Tuple[int, bool]:
    """``--max-attempts``: (the cap, whether a job's own failure is retried). Given
    explicitly, it retries failures too; by default only endings that are not the
    job's doing (lost, interrupted) get more attempts."""
    if value is None:
        return DEFAULT_MAX_ATTEMPTS, False
    return max(1, int(value)), True
