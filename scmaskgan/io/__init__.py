"""Reading count matrices and writing imputation results for the command line.

- :mod:`scmaskgan.io.reading`: :func:`~scmaskgan.io.reading.read_input` (h5ad, CSV/TSV/TAB/TXT
  optionally gzipped, 10x ``mtx`` folders) and :func:`~scmaskgan.io.reading.read_labels`;
- :mod:`scmaskgan.io.writing`: :func:`~scmaskgan.io.writing.write_output` (h5ad or CSV/TSV,
  streamed in row blocks, renamed into place), :func:`~scmaskgan.io.writing.output_files` (the file of each
  layer), :func:`~scmaskgan.io.writing.check_output_path` and :func:`~scmaskgan.io.writing.memory_copy` (a
  backed AnnData in memory);
- :mod:`scmaskgan.io.tenx`: the files of a 10x ``mtx`` folder
  (:func:`~scmaskgan.io.tenx.find_10x_part`, :func:`~scmaskgan.io.tenx.read_10x_parts`);
- :mod:`scmaskgan.io.formats`: :class:`~scmaskgan.io.formats.InputFormatError` and what a file's
  name and values say about its format.

Every name of these modules that the rest of the package uses is importable from
``scmaskgan.io`` itself, e.g. ``from scmaskgan.io import read_input, write_output``.
"""

from __future__ import annotations

from .formats import InputFormatError
from .reading import read_input, read_labels
from .tenx import Missing10xPartError, find_10x_part, read_10x_parts
from .writing import (OutputExistsError, check_output_files, check_output_path, memory_copy, output_files,
                      write_output)

__all__ = [
    "InputFormatError",
    "Missing10xPartError",
    "OutputExistsError",
    "check_output_files",
    "check_output_path",
    "find_10x_part",
    "memory_copy",
    "output_files",
    "read_10x_parts",
    "read_input",
    "read_labels",
    "write_output",
]
