"""The three files of a 10x Genomics ``mtx`` folder, as 10x and GEO name them.

:func:`find_10x_part` finds one of them (also with a GEO sample prefix such as
``GSM3022245_``), :func:`read_10x_parts` reads all three (the count matrix, the features table
and the barcodes), and :class:`Missing10xPartError` says which one is missing. Used by
:func:`scmaskgan.io.reading.read_input` and by the GEO readers of :mod:`scmaskgan.datasets`.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.io
import scipy.sparse as sp

from .formats import InputFormatError, exact_float

__all__ = ["Missing10xPartError", "find_10x_part", "read_10x_parts"]


class Missing10xPartError(InputFormatError):
    """A 10x mtx folder lacks one of its three files."""


def find_10x_part(folder: Path, *stems: str) -> list[Path]:
    """Files of a 10x mtx folder, also with a GEO prefix (``GSM..._matrix.mtx.gz``).

    Parameters
    ----------
    folder
        The folder to look in (not recursive).
    *stems
        File names without ``.gz``, any of which is looked for, e.g. ``"features.tsv", "genes.tsv"``.

    Returns
    -------
    list of pathlib.Path
        The files named ``<stem>``, ``<stem>.gz``, ``<prefix>_<stem>`` or ``<prefix>_<stem>.gz``
        (names compared in lower case), sorted; empty when there is none.
    """
    hits = []
    for child in sorted(folder.iterdir()):
        lower = child.name.lower()
        if child.is_file() and any(
            lower == s or lower == f"{s}.gz" or lower.endswith((f"_{s}", f"_{s}.gz")) for s in stems
        ):
            hits.append(child)
    return hits


def read_10x_parts(folder: Path) -> tuple[sp.csr_matrix, pd.DataFrame, pd.Index, list[Path]]:
    """Read a 10x mtx folder: (cells x genes CSR, float32 or, where a value needs it, float64, features table, barcodes, the three files).

    The files are ``matrix.mtx``, ``features.tsv`` (or ``genes.tsv``) and ``barcodes.tsv``,
    each optionally gzipped and with a GEO sample prefix (``GSM3022245_matrix.mtx.gz``).
    A missing file raises :class:`Missing10xPartError`; two candidates for one file, or
    shapes that disagree, :class:`~scmaskgan.io.formats.InputFormatError`.
    """
    parts = {
        "matrix.mtx(.gz)": find_10x_part(folder, "matrix.mtx"),
        "features.tsv(.gz) or genes.tsv(.gz)": find_10x_part(folder, "features.tsv", "genes.tsv"),
        "barcodes.tsv(.gz)": find_10x_part(folder, "barcodes.tsv"),
    }
    missing = [what for what, hits in parts.items() if not hits]
    if missing:
        raise Missing10xPartError(f"{folder} is not a 10x mtx folder: no {', no '.join(missing)}")
    for what, hits in parts.items():
        if len(hits) > 1:
            raise InputFormatError(
                f"{folder} holds several {what}: {', '.join(h.name for h in hits)}; put one sample's files per folder"
            )
    matrix, features, barcodes = (hits[0] for hits in parts.values())
    opener = gzip.open if matrix.name.endswith(".gz") else open
    with opener(matrix, "rb") as fh:
        try:
            genes_by_cells = scipy.io.mmread(fh)
        except ValueError as exc:
            raise InputFormatError(f"cannot read {matrix} as Matrix Market: {exc}") from exc
    x = sp.csr_matrix(genes_by_cells.T, dtype=np.float64)
    x.data = exact_float(x.data, matrix)
    feat = pd.read_csv(features, sep="\t", header=None, dtype=str)
    codes = pd.Index(pd.read_csv(barcodes, sep="\t", header=None, dtype=str).iloc[:, 0], dtype=str)
    if x.shape != (len(codes), len(feat)):
        raise InputFormatError(
            f"{folder}: the matrix is {x.shape[1]} genes x {x.shape[0]} cells but there are "
            f"{len(feat)} features and {len(codes)} barcodes"
        )
    return x, feat, codes, [matrix, features, barcodes]
