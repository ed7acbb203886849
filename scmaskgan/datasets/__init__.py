"""Public single-cell datasets, pinned by URL and SHA-256.

>>> from scmaskgan import datasets
>>> datasets.available()  # doctest: +SKIP
['darmanis_brain', 'ercc', 'gsm5768752', 'sc_celseq2', 'sc_celseq2_5cl_p1', 'sc_dropseq']
>>> adata = datasets.load("sc_celseq2")  # doctest: +SKIP

Files are looked up in ``$SCMASKGAN_DATA`` first, then in the cache folder
(``$SCMASKGAN_CACHE`` or ``pooch.os_cache("scmaskgan")``), and downloaded otherwise.
"""

from ._loaders import DatasetFormatError, UnknownDatasetError, available, describe, load
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

__all__ = [
    "REGISTRY",
    "DataFileHashError",
    "DataFileNotAvailableError",
    "DatasetFormatError",
    "RemoteFile",
    "UnknownDataFileError",
    "UnknownDatasetError",
    "available",
    "cache_dir",
    "describe",
    "fetch",
    "file_sha256",
    "load",
]
