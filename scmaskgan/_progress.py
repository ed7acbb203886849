"""Progress of long work: a tqdm bar on a terminal, about ten log lines elsewhere (papermill, files)."""

from __future__ import annotations

import logging
import sys
import time

logger = logging.getLogger("scmaskgan")


class Progress:
    """Count ``total`` units of work and show how far it is.

    On a terminal (stderr is a tty) a tqdm bar; elsewhere an ``INFO`` line on the ``"scmaskgan"``
    logger after the first update and each time another tenth of ``total`` is done, so a notebook
    run under papermill or a log file shows progress without a line per step. Disabled, it only counts.

    Parameters
    ----------
    total
        Units of work in all.
    desc, unit
        What is being done, and what one unit is (``"scmaskgan training"``, ``"epoch"``).
    enabled
        Show anything at all.
    """

    def __init__(self, total: int, *, desc: str, unit: str, enabled: bool = True):
        self.total, self.desc, self.unit, self.done = int(total), desc, unit, 0
        self.enabled = bool(enabled)
        self._t0 = time.perf_counter()
        self._step = max(1, self.total // 10)
        self._next_log = 0
        self._bar = None
        if self.enabled and sys.stderr.isatty():
            from tqdm.auto import tqdm

            self._bar = tqdm(total=self.total, desc=desc, unit=unit)

    def update(self, n: int = 1, *, postfix: dict | None = None, message: str | None = None) -> None:
        """Mark ``n`` more units done; ``postfix`` goes on the bar, ``message`` (default: counts and
        elapsed time) into the log line."""
        self.done += n
        if self._bar is not None:
            self._bar.update(n)
            if postfix:
                self._bar.set_postfix(postfix)
        elif self.enabled and (self.done >= self._next_log or self.done >= self.total):
            logger.info("%s", message or f"{self.desc}: {self.done:,}/{self.total:,} {self.unit}s "
                                          f"({time.perf_counter() - self._t0:.1f} s)")
            self._next_log = (self.done // self._step + 1) * self._step

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
