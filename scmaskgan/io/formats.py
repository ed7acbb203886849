"""What a file's name and values say about its format, for the readers and writers of :mod:`scmaskgan.io`.

:class:`InputFormatError` (a file that cannot be read as a count matrix or label list, or an
output path of an unsupported format), :func:`format_suffix` (the format suffix of a file name,
and whether it is gzip-compressed) and :func:`exact_float` (float32 where it holds every value
exactly).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

__all__ = ["InputFormatError", "exact_float", "format_suffix"]

logger = logging.getLogger("scmaskgan")


class InputFormatError(ValueError):
    """An input file cannot be read as a count matrix or label list."""


def format_suffix(path: Path) -> tuple[str, bool]:
    """Format suffix (lower case) and whether the file is gzip-compressed.

    Parameters
    ----------
    path
        A file name, e.g. ``counts.CSV.gz``.

    Returns
    -------
    suffix : str
        The suffix before a ``.gz``, in lower case (``".csv"``).
    gz : bool
        Whether the name ends with ``.gz``.
    """
    name = path.name.lower()
    gz = name.endswith(".gz")
    if gz:
        name = name[:-3]
    return Path(name).suffix, gz


def exact_float(values: np.ndarray, source: Path) -> np.ndarray:
    """``values`` (float64) as float32 when that holds every value exactly, else as float64, so that no
    observed value moves (a count above 2**24 or a non-integer value that float32 rounds).

    Parameters
    ----------
    values
        The values read, float64.
    source
        The file they come from, named in the log line when they stay float64.

    Returns
    -------
    numpy.ndarray
        A float32 copy, or ``values`` itself.
    """
    single = values.astype(np.float32)
    if np.array_equal(single, values):
        return single
    logger.info("%s: some values are not exact in float32 (counts above 2**24 or many decimals); "
                "they are kept as float64", source)
    return values
