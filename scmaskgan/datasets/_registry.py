"""Registry of the public data files that scmaskgan can load, and how to fetch them.

Every file is pinned to one commit of a public GitHub repository and to its SHA-256,
so that what is loaded is byte-identical wherever it comes from. :func:`fetch` looks,
in this order, in

1. the folder named by the environment variable ``SCMASKGAN_DATA`` (files placed there
   by hand, e.g. a shared read-only copy); the hash is checked and a mismatch is an error;
2. the download cache: ``SCMASKGAN_CACHE`` if set, else ``pooch.os_cache("scmaskgan")``;
3. the raw GitHub URL, downloaded into the cache with :mod:`pooch` and checked against the hash.

No other data is ever substituted: when a file can be found nowhere, the error says which
file is missing, where it would be downloaded from and how to place it by hand.
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import pooch

__all__ = [
    "REGISTRY",
    "DataFileHashError",
    "DataFileNotAvailableError",
    "RemoteFile",
    "UnknownDataFileError",
    "cache_dir",
    "fetch",
    "file_sha256",
]

logger = logging.getLogger("scmaskgan")

DATA_ENV = "SCMASKGAN_DATA"
CACHE_ENV = "SCMASKGAN_CACHE"


class UnknownDataFileError(ValueError):
    """A file name that is not in the registry was requested."""


class DataFileHashError(ValueError):
    """A data file's SHA-256 differs from the registered one."""


class DataFileNotAvailableError(FileNotFoundError):
    """A data file is neither present locally nor downloadable."""


@dataclass(frozen=True)
class RemoteFile:
    """One registered data file.

    Parameters
    ----------
    filename
        Name of the file locally (in ``SCMASKGAN_DATA`` or the cache).
    repo
        GitHub repository, ``owner/name``.
    commit
        Full commit hash the file is pinned to.
    path
        Path of the file inside the repository.
    sha256
        SHA-256 of the file's bytes.
    description
        What the file contains.
    """

    filename: str
    repo: str
    commit: str
    path: str
    sha256: str
    description: str

    @property
    def url(self) -> str:
        """Raw download URL of the pinned file (empty for derived files, which have none)."""
        if not self.repo:
            return ""
        return f"https://raw.githubusercontent.com/{self.repo}/{self.commit}/{self.path}"


_SCIGANS = ("xuyungang/scIGANs", "9716a86d1ab19a56863158430702fe1fd7d99a5b")
_READQUANT = ("Teichlab/readquant", "088d025dcebcf5f6c2b955927a7afdd816161930")
_MIXOLOGY = ("LuyiTian/sc_mixology", "7d00ffb0bd043467f365a9358d7312f294f13c9f")
_DARMANIS = ("numpde/sta426_deconvo", "d8f378502dbf3496795ade2835decebd27025e7a")
_DARMANIS_DIR = "data/20201206-RefDatasets/2015-Darmanis/b_prepared"
_SCMASKGAN = ("A-uo/scMASKGAN", "c47e625412bcda48c1ec6b0ebe90b4c4abea0ced")

_FILES = [
    RemoteFile(
        "ercc.txt", *_SCIGANS, "test_data/ercc.txt",
        "a50b004fc97faec79009bb1df81be43582c701d3cb16badbff748156c53edc35",
        "ERCC spike-ins in 288 mouse ESCs (Buettner 2015, E-MTAB-2805): 92 genes (rows) x 288 "
        "cells (columns), tab-separated raw counts; column names start with the phase G1_/S_/G2M_.",
    ),
    RemoteFile(
        "ercc.label.txt", *_SCIGANS, "test_data/ercc.label.txt",
        "5b319686c22a4dea296055e8332c39435fd1fcef37c1f7862567501ba6562f71",
        "One phase label per line; its order (G1, G2M, S) does NOT match the columns of ercc.txt.",
    ),
    RemoteFile(
        "ERCC.tsv", *_READQUANT, "readquant/ERCC.tsv",
        "5151b394332477301851404d37b907cb6f27c9aaa2569e288531a839d6ca2b3b",
        "Known ERCC ExFold spike-in concentrations (Mix 1 and Mix 2, attomoles/ul).",
    ),
    RemoteFile(
        "sc_celseq2.count.csv.gz", *_MIXOLOGY, "data/csv/sc_celseq2.count.csv.gz",
        "a82aa89b8995aed412f4260c0adb343967e33a801af6f2e0aa647c1d897a5a21",
        "CellBench CEL-seq2, 3 lung cancer cell lines: 28,204 genes (Ensembl ids) x 274 cells, UMI counts.",
    ),
    RemoteFile(
        "sc_celseq2.metadata.csv.gz", *_MIXOLOGY, "data/csv/sc_celseq2.metadata.csv.gz",
        "78429916bac394d92d8c972059a8f195c5479ce578da04f1eb3ba599585ef3d9",
        "CellBench CEL-seq2 cell metadata (cell_line_demuxlet, demuxlet_cls, QC).",
    ),
    RemoteFile(
        "sc_dropseq.count.csv.gz", *_MIXOLOGY, "data/csv/sc_dropseq.count.csv.gz",
        "98c0bb6a9fbf4b93967ef82cef9985d7691cf59a31dc5b0b3699f70ed1a0fd08",
        "CellBench Drop-seq, 3 lung cancer cell lines: 15,127 genes x 225 cells, UMI counts.",
    ),
    RemoteFile(
        "sc_dropseq.metadata.csv.gz", *_MIXOLOGY, "data/csv/sc_dropseq.metadata.csv.gz",
        "4c48f3e13778e89192d9861095bc102cc0deb9eba1a7f47a093f5a058ce1aa6a",
        "CellBench Drop-seq cell metadata (cell_line_demuxlet, demuxlet_cls, QC).",
    ),
    RemoteFile(
        "sc_celseq2_5cl_p1.count.csv.gz", *_MIXOLOGY, "data/csv/sc_celseq2_5cl_p1.count.csv.gz",
        "577324d2fd427685144420536489202c68ae98cb22f5825c40c8cf41c5fe0a07",
        "CellBench CEL-seq2, 5 cell lines, plate 1: 15,564 genes x 297 cells, UMI counts.",
    ),
    RemoteFile(
        "sc_celseq2_5cl_p1.metadata.csv.gz", *_MIXOLOGY, "data/csv/sc_celseq2_5cl_p1.metadata.csv.gz",
        "a6f5b206f891113162d2c9af27860c187a04ccd8848f9bc29be97dfa95eeadc4",
        "CellBench CEL-seq2 5-cell-line plate 1 metadata (cell_line_demuxlet, demuxlet_cls).",
    ),
    RemoteFile(
        "darmanis_GSE67835.data.tsv.gz", *_DARMANIS, f"{_DARMANIS_DIR}/data.csv.gz",
        "e281d9160965c2381a05795053e7de6c127657b658b0ea80b5e4f4f9290390e0",
        "Human brain (Darmanis 2015, GSE67835): 22,088 rows (gene symbols + 3 HTSeq counters) x "
        "466 cells, raw read counts, TAB-separated despite the upstream name data.csv.gz.",
    ),
    RemoteFile(
        "darmanis_GSE67835.meta.csv.gz", *_DARMANIS, f"{_DARMANIS_DIR}/meta.csv.gz",
        "843f843b0599aa71d688b145cb2921439635fa22a1708aad5542482edbe31d85",
        "Darmanis 2015 cell metadata (tab-separated): cell type, tissue, age, chip.",
    ),
    RemoteFile(
        "GSM5768752_Data.zip", *_SCMASKGAN, "Data.zip",
        "7aa1fdca4d08be4ade26c65e5cf6f019f843135140ad380c42ab8ca40f6587f9",
        "Neuroblastoma sample GSM5768752 (ganglioneuroma, Yuan 2022): "
        "Data/GSM5768752_GN1_UMI_COUNTS_RAW.csv, 33,514 genes x 551 cells, UMI counts.",
    ),
    RemoteFile(
        "louvain_labels_GSM5768752.csv", *_SCMASKGAN, "louvain_labels_GSM5768752.csv",
        "c19fa5ebdad75c6fa42b3c0a401b613fdf84655627932da7864f2714d55c232d",
        "551 Louvain cluster ids (0-9) for GSM5768752, one per line, no header.",
    ),
    # Derived files: rewritten from a public source, so no raw URL serves these exact bytes;
    # they can only be placed by hand in SCMASKGAN_DATA or the cache folder.
    RemoteFile(
        "GO_Biological_Process_2021.human.gmt", "", "", "",
        "d95604170f3a204d84e8eed54e1188d26110ae493d10621b29fbb8626b2bce6b",
        "Enrichr GO Biological Process 2021 (human symbols), 6,034 terms, standard GMT; derived "
        "from uttamLab/mitochontrol@4fb35d51a6a1bce8b1db5c35405046d93a3b0a89:"
        "GO_Biological_Process_2021.gmt.",
    ),
    RemoteFile(
        "GO_BP_mouse_go2msig_2015.gmt", "", "", "",
        "b67a561a8e193336c0b012b66c81c1ea79cbc0858fc9e24fcf355cc226881eea",
        "Mouse GO Biological Process (go2msig 2015), 3,469 sets, UPPER-cased symbols, standard "
        "GMT; derived from Puriney/pseudotime@8e04ff01345794868570cd2c0af220306ccfa825:"
        "ref/Mus_musculus_GSEA_GO_sets_bp_symbols_highquality_April_2015.gmt.zip.",
    ),
    RemoteFile(
        "ensembl2symbol_human.tsv.gz", "", "", "",
        "11d9f555d33c9fdd4abe12b24aeae0c87fe73dcd3aaa49476975a88f798a2959",
        "Ensembl gene id -> HGNC symbol (40,102 rows; columns ensembl_id, symbol, entrez_id), "
        "derived from org.Hs.eg.db 3.16.0.",
    ),
]

#: All registered files, by file name.
REGISTRY: dict[str, RemoteFile] = {f.filename: f for f in _FILES}

# (resolved path, size, mtime_ns) -> sha256 hex; hashes are computed once per process.
_HASH_CACHE: dict[tuple[str, int, int], str] = {}


def file_sha256(path: str | os.PathLike) -> str:
    """SHA-256 of a file, cached per process by path, size and modification time.

    Parameters
    ----------
    path
        File to hash.

    Returns
    -------
    str
        Lower-case hexadecimal digest.
    """
    path = Path(path).resolve()
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    digest = _HASH_CACHE.get(key)
    if digest is None:
        sha = hashlib.sha256()
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                sha.update(block)
        digest = sha.hexdigest()
        _HASH_CACHE[key] = digest
    return digest


def cache_dir() -> Path:
    """Folder that downloads go to: ``$SCMASKGAN_CACHE`` or ``pooch.os_cache("scmaskgan")``."""
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env).expanduser()
    return Path(pooch.os_cache("scmaskgan"))


def _entry(filename: str) -> RemoteFile:
    try:
        return REGISTRY[filename]
    except KeyError:
        known = ", ".join(sorted(REGISTRY))
        raise UnknownDataFileError(
            f"{filename!r} is not a registered scmaskgan data file; known files: {known}"
        ) from None


def _verify(path: Path, entry: RemoteFile) -> Path:
    actual = file_sha256(path)
    if actual != entry.sha256:
        raise DataFileHashError(
            f"{path} has SHA-256 {actual}, but the registered SHA-256 of {entry.filename} is "
            f"{entry.sha256}: the file is corrupt or a different version. Replace it with "
            f"the file from {entry.url or 'its documented source'}."
        )
    return path


def _download(entry: RemoteFile, folder: Path) -> Path:
    """Download one file into ``folder`` with pooch, checking its hash."""
    return Path(
        pooch.retrieve(
            entry.url,
            known_hash=f"sha256:{entry.sha256}",
            fname=entry.filename,
            path=folder,
            progressbar=False,
        )
    )


def fetch(filename: str) -> Path:
    """Local path of a registered data file, downloading it when needed.

    Parameters
    ----------
    filename
        A key of :data:`REGISTRY`, e.g. ``"ercc.txt"``.

    Returns
    -------
    pathlib.Path
        Path of a file whose SHA-256 matches the registry.

    Raises
    ------
    UnknownDataFileError
        ``filename`` is not registered.
    DataFileHashError
        The file in ``SCMASKGAN_DATA`` or the cache has another SHA-256.
    DataFileNotAvailableError
        The file is not present locally and could not be downloaded (e.g. offline).
    """
    entry = _entry(filename)
    data_env = os.environ.get(DATA_ENV)
    if data_env:
        candidate = Path(data_env).expanduser() / filename
        if candidate.is_file():
            logger.debug("Using %s from %s=%s", filename, DATA_ENV, data_env)
            return _verify(candidate, entry)
        logger.debug("%s not found in %s=%s", filename, DATA_ENV, data_env)

    folder = cache_dir()
    cached = folder / filename
    if cached.is_file() and file_sha256(cached) == entry.sha256:
        logger.debug("Using cached %s", cached)
        return cached

    where = f"${DATA_ENV}" + (f" (= {data_env})" if data_env else " (not set)")
    how = (
        f"download it by hand and place it in the folder named by the environment variable "
        f"{where}, or in the cache folder {folder}"
    )
    if not entry.url:
        raise DataFileNotAvailableError(
            f"Data file {filename} is not available locally and has no download URL "
            f"({entry.description}); {how}. Its SHA-256 must be {entry.sha256}."
        )
    if cached.is_file():
        logger.warning(
            "Cached %s has SHA-256 %s, expected %s; downloading it again",
            cached, file_sha256(cached), entry.sha256,
        )
    logger.info("Downloading %s from %s", filename, entry.url)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        path = _download(entry, folder)
    except Exception as exc:  # network errors come in many types (requests, OSError, ...)
        raise DataFileNotAvailableError(
            f"Data file {filename} is not available locally and could not be downloaded from "
            f"{entry.url} ({type(exc).__name__}: {exc}). If this machine is offline, {how}. "
            f"Its SHA-256 must be {entry.sha256}."
        ) from exc
    return _verify(path, entry)
