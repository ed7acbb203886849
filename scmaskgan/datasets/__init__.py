"""Public single-cell datasets, pinned by URL and SHA-256.

>>> from scmaskgan import datasets
>>> datasets.available()  # doctest: +SKIP
['darmanis_brain', 'ercc', 'gsm5768752', 'sc_celseq2', 'sc_celseq2_5cl_p1', 'sc_dropseq']
>>> adata = datasets.load("sc_celseq2")  # doctest: +SKIP

Files are looked up in ``$SCMASKGAN_DATA`` first, then in the cache folder
(``$SCMASKGAN_CACHE`` or ``pooch.os_cache("scmaskgan")``), and downloaded otherwise.

The paper's datasets that cannot be pinned here are read from files the user downloads
from GEO: :func:`read_chu_time_course` (GSE75748), :func:`read_klein_mesc` (GSE65525),
:func:`read_neuroblastoma` (GSM5768743-GSM5768752) and :func:`read_cellbench_10x`
(GSE111108 / CellBench ``sc_10x``).

>>> adata = datasets.read_klein_mesc("~/Downloads/GSE65525")  # doctest: +SKIP

Several batches in one AnnData (the batch-integration notebook's data): :func:`load_batches`
(:func:`cellbench_batches` or :func:`neuroblastoma_batches`, then :func:`select_batch_genes`).
"""

from ._batches import (
    CELLBENCH_BATCHES,
    NEUROBLASTOMA_QC,
    Batches,
    cellbench_batches,
    load_batches,
    neuroblastoma_batches,
    select_batch_genes,
)
from ._cellbench_10x import read_cellbench_10x
from ._geo_files import GeoFileNotFoundError
from ._loaders import DatasetFormatError, UnknownDatasetError, available, describe, load
from ._neuroblastoma import NEUROBLASTOMA_TYPES, read_neuroblastoma
from ._registry import (
    REGISTRY,
    DataFileHashError,
    DataFileNotAvailableError,
    RemoteFile,
    UnknownDataFileError,
    cache_dir,
    fetch,
    file_sha256,
)
from ._time_courses import read_chu_time_course, read_klein_mesc

__all__ = [
    "CELLBENCH_BATCHES",
    "NEUROBLASTOMA_QC",
    "Batches",
    "cellbench_batches",
    "load_batches",
    "neuroblastoma_batches",
    "select_batch_genes",
    "REGISTRY",
    "DataFileHashError",
    "DataFileNotAvailableError",
    "DatasetFormatError",
    "GeoFileNotFoundError",
    "NEUROBLASTOMA_TYPES",
    "RemoteFile",
    "UnknownDataFileError",
    "UnknownDatasetError",
    "available",
    "cache_dir",
    "describe",
    "fetch",
    "file_sha256",
    "load",
    "read_cellbench_10x",
    "read_chu_time_course",
    "read_klein_mesc",
    "read_neuroblastoma",
]
