"""A one-line progress bar on stderr, written by hand: trials done / total, best so far (or the size of the
Pareto front, with several objectives), elapsed, ETA.

Off unless the stream is a terminal, so logs and CI output stay clean.
"""

import sys
import time


def _clock(seconds):
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


class ProgressBar:
    """`update(done, best)` redraws at most every `min_interval` seconds; `close()` ends the line.

    ETA = elapsed / done * (total - done), or the time left before `timeout` when there is no total.
    """

    def __init__(self, total=None, timeout=None, stream=None, enabled=True, width=20, min_interval=0.1):
        self.stream = sys.stderr if stream is None else stream
        isatty = getattr(self.stream, "isatty", None)
        self.enabled = bool(enabled) and callable(isatty) and bool(isatty())
        self.total, self.timeout, self.width, self.min_interval = total, timeout, width, min_interval
        self.start = time.monotonic()
        self._last_draw = -float("inf")
        self._last_len = 0
        self._state = (0, None)
        self._front = None

    def line(self, done, best, elapsed, front=None):
        """The text of the bar (without the leading carriage return); `front`: (the Pareto front's size, its
        hypervolume or None), shown instead of the best value."""
        parts = []
        if self.total:
            filled = min(self.width, int(self.width * done / self.total))
            parts.append("[" + "#" * filled + "-" * (self.width - filled) + "]")
            parts.append(f"{done}/{self.total}")
        else:
            parts.append(f"{done} trials")
        if front is not None:
            size, volume = front
            parts.append(f"front {size}" + ("" if volume is None else f", hypervolume {volume:.4g}"))
        else:
            parts.append("best " + ("-" if best is None else f"{best:.6g}"))
        eta = None
        if self.total and done:
            eta = elapsed / done * max(self.total - done, 0)
        elif self.timeout is not None:
            eta = max(self.timeout - elapsed, 0.0)
        parts.append(_clock(elapsed) + ("" if eta is None else f" < {_clock(eta)}"))
        return "  ".join(parts)

    def update(self, done, best=None, force=False, front=None):
        """Redraw with `done` trials and the best value (or the Pareto front's size `front`)."""
        self._state = (done, best)
        self._front = front
        if not self.enabled:
            return
        now = time.monotonic()
        if not force and now - self._last_draw < self.min_interval:
            return
        self._last_draw = now
        text = self.line(done, best, now - self.start, self._front)
        self.stream.write("\r" + text + " " * max(self._last_len - len(text), 0))
        self.stream.flush()
        self._last_len = len(text)

    def close(self):
        if self.enabled:
            self.update(*self._state, force=True, front=self._front)
            self.stream.write("\n")
            self.stream.flush()
