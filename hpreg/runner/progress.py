"""Progress of a sweep: a tqdm bar on a terminal, one plain line per finished job
otherwise (or when ``TQDM_DISABLE`` is set, as tqdm users expect); the same counts
line ``hpreg status`` prints."""

import os
import sys
import time
from typing import Dict, Optional


def format_seconds(seconds: Optional[float]) -> str:
    if seconds is None:
        return "?"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return "{}:{:02d}:{:02d}".format(hours, minutes, seconds)
    return "{:02d}:{:02d}".format(minutes, seconds)


def counts_text(counts: Dict[str, int]) -> str:
    """``3 done, 1 failed, 2 running, 4 left`` (left: queued, interrupted or lost)."""
    left = sum(counts.get(s, 0) for s in ("queued", "interrupted", "lost"))
    text = "{} done, {} failed, {} running, {} left".format(
        counts.get("done", 0), counts.get("failed", 0), counts.get("running", 0), left
    )
    if counts.get("pruned"):
        text += ", {} pruned".format(counts["pruned"])
    return text


def progress_line(
    counts: Dict[str, int], elapsed: Optional[float], eta: Optional[float]
) -> str:
    total = sum(counts.values())
    finished = counts.get("done", 0) + counts.get("failed", 0) + counts.get("pruned", 0)
    percent = 100 * finished // total if total else 100
    if finished == total:
        return "{}/{} finished (100%): {}; took {}".format(
            finished, total, counts_text(counts), format_seconds(elapsed)
        )
    return "{}/{} finished ({}%): {}; elapsed {}, ETA {}".format(
        finished,
        total,
        percent,
        counts_text(counts),
        format_seconds(elapsed),
        format_seconds(eta) if eta is not None else "?",
    )


def tqdm_disabled() -> bool:
    """``TQDM_DISABLE`` is set (to anything but empty, ``0``, ``false`` or ``no``)."""
    value = os.environ.get("TQDM_DISABLE", "").strip().lower()
    return value not in ("", "0", "false", "no")


class Progress:
    """Told of each job's start and end by the executor. ``bar=None`` chooses: a
    tqdm bar when ``stream`` is a terminal and ``TQDM_DISABLE`` is not set, plain
    lines otherwise.

    Counts are kept here from each start and end (a claimed job says which state
    it left), and read again from the store only now and then (what other runners
    did): a job's end costs the same with 100 jobs in the store or 10^6."""

    # read the store's counts again after this many seconds, at the least, and
    # never spend more than 2% of the time counting
    REFRESH_AFTER = 2.0
    REFRESH_SHARE = 0.02

    def __init__(self, store, stream=None, bar: Optional[bool] = None):
        self.store = store
        self.stream = stream if stream is not None else sys.stderr
        if bar is None:
            isatty = getattr(self.stream, "isatty", None)
            bar = bool(isatty and isatty()) and not tqdm_disabled()
        self.use_bar = bar
        self.begun = time.time()
        self.finished_here = 0
        self._bar = None
        counts = self._read_counts()
        self.total = sum(counts.values())
        self.finished_before = counts["done"] + counts["failed"] + counts["pruned"]
        if self.use_bar:
            from tqdm import tqdm

            tqdm.monitor_interval = 0  # no monitor thread: workers may be forked
            self._tqdm = tqdm
            self._bar = tqdm(
                total=self.total,
                initial=self.finished_before,
                unit="job",
                file=self.stream,
                dynamic_ncols=True,
                smoothing=0.1,
                disable=False,  # chosen above (tqdm reads TQDM_DISABLE on import)
            )
            self._postfix(counts)

    def _postfix(self, counts) -> None:
        if self._bar is not None:
            self._bar.set_postfix_str(counts_text(counts), refresh=True)

    def message(self, text: str) -> None:
        if self._bar is not None:
            self._tqdm.write(text, file=self.stream)
        else:
            print(text, file=self.stream, flush=True)

    def _read_counts(self) -> Dict[str, int]:
        began = time.perf_counter()
        self.counts = dict(self.store.counts())
        self._count_cost = time.perf_counter() - began
        self._counted_at = time.time()
        return dict(self.counts)

    def _current(self) -> Dict[str, int]:
        wait = max(self.REFRESH_AFTER, self._count_cost / self.REFRESH_SHARE)
        if time.time() - self._counted_at >= wait:
            return self._read_counts()
        return dict(self.counts)

    def _move(self, old: Optional[str], new: str) -> None:
        if old is not None and self.counts.get(old, 0) > 0:
            self.counts[old] -= 1
        self.counts[new] = self.counts.get(new, 0) + 1

    def started(self, job) -> None:
        claimed_from = job.get("claimed_from")
        if claimed_from is not None:
            self._move(claimed_from, "running")
        if self._bar is not None:
            self._postfix(self._current())

    def ended(self, job, state: str, exit_code, seconds: float) -> None:
        self._move("running", state)
        counts = self._current()
        if state in ("done", "failed", "pruned"):
            self.finished_here += 1
        if self._bar is not None:
            if state in ("done", "failed", "pruned"):
                self._bar.update(1)
            self._postfix(counts)
            if state == "failed":
                self.message(
                    "failed: {} (exit {}) {}".format(
                        job.id, exit_code, _point_text(job.point)
                    )
                )
            return
        what = state if state != "failed" else "failed (exit {})".format(exit_code)
        self.message(
            "{} {} in {:.1f} s {}: {}".format(
                job.id,
                what,
                seconds,
                _point_text(job.point),
                progress_line(counts, *self.times(counts)),
            )
        )

    def times(self, counts: Dict[str, int]):
        """Elapsed seconds since the start, and the ETA of the jobs left at the
        pace of those finished here (None before any)."""
        elapsed = time.time() - self.begun
        left = (
            counts["queued"]
            + counts["interrupted"]
            + counts["lost"]
            + counts["running"]
        )
        eta = elapsed / self.finished_here * left if self.finished_here else None
        return elapsed, eta

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def _point_text(point: dict, limit: int = 120) -> str:
    text = " ".join("{}={}".format(k, v) for k, v in point.items())
    return text if len(text) <= limit else text[: limit - 3] + "..."
