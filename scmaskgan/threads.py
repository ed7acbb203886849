"""How many CPU threads the package's own work uses, set for the duration of a call and restored afterwards.

:func:`using_threads` limits torch's intra-op threads (where torch is already imported) and the BLAS and
OpenMP pools that ``threadpoolctl`` finds, and gives each back its earlier setting when the call ends.
numba's threads are left alone: the package's numba kernels are not parallel (the count model's answers
share their blocks of rows through ``n_threads`` threads of their own, see :func:`current_threads`).
:class:`scmaskgan.SCMaskGAN` runs its construction, training, imputation and draws inside it, with its
``n_threads``.

A leaf of the package: it imports only the validation helpers (torch and threadpoolctl when used).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from ._validation import check_param

__all__ = ["DEFAULT_THREADS", "check_threads", "set_threads", "using_threads", "current_threads"]

#: Threads the package uses by default. One thread gives the same arithmetic on every machine, and on a
#: 2-core machine with other work beside it torch's own default (one thread per core) was several times
#: slower than one thread.
DEFAULT_THREADS = 1

_current = threading.local()


def check_threads(n_threads: int | None, name: str = "n_threads") -> int | None:
    """``n_threads`` checked: a positive integer, or ``None`` (the libraries' own settings)."""
    return check_param(name, n_threads, int, low=1, allow_none=True)


def set_threads(n_threads: int) -> None:
    """Limit BLAS/OpenMP thread pools, and torch's when torch is loaded, to ``n_threads`` (not restored)."""
    from threadpoolctl import threadpool_limits

    check_param("threads", n_threads, int, low=1)
    threadpool_limits(limits=n_threads)
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(n_threads)


def current_threads() -> int | None:
    """The ``n_threads`` of the innermost :func:`using_threads` running in this thread (``None`` outside one,
    or inside ``using_threads(None)``)."""
    return getattr(_current, "n_threads", None)


@contextmanager
def using_threads(n_threads: int | None) -> Iterator[None]:
    """Run the body with ``n_threads`` CPU threads, then restore the earlier settings.

    Parameters
    ----------
    n_threads
        Threads of torch's intra-op pool (where torch is already imported) and of the BLAS and OpenMP
        pools ``threadpoolctl`` finds; ``None`` leaves every library's setting as it is.

    Notes
    -----
    The settings are the process's: code running in other Python threads meanwhile sees them too.
    """
    n_threads = check_threads(n_threads)
    outer = current_threads()
    _current.n_threads = n_threads
    try:
        if n_threads is None:
            yield
            return
        from threadpoolctl import threadpool_limits

        torch = sys.modules.get("torch")
        before = torch.get_num_threads() if torch is not None else None
        with threadpool_limits(limits=n_threads):
            if torch is not None:
                torch.set_num_threads(n_threads)
            try:
                yield
            finally:
                if torch is not None:
                    torch.set_num_threads(before)
    finally:
        _current.n_threads = outer
