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

The registry itself is data, not code: one row per file in ``registry.csv`` beside this
module (``data/registry.csv`` at the top of a source checkout is a symbolic link to it, and
``data/README.md`` describes every file). It ships in the wheel as package data and is read
and validated once, at import, by :func:`read_registry`.
"""

from __future__ import annotations

import csv
import hashlib
import importlib.resources
import io
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path

import pooch

__all__ = [
    "REGISTRY",
    "REGISTRY_COLUMNS",
    "DataFileHashError",
    "DataFileNotAvailableError",
    "RegistryFormatError",
    "RemoteFile",
    "UnknownDataFileError",
    "cache_dir",
    "fetch",
    "file_sha256",
    "read_registry",
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


class RegistryFormatError(ValueError):
    """The registry CSV is malformed (columns, a value, or a duplicate file name)."""


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
    size_bytes
        Size of the file in bytes (``None`` when not registered).
    loader
        What in :mod:`scmaskgan.datasets` reads the file: ``"load:<name>"`` for
        ``load("<name>")``, a function name such as ``"read_cellbench_10x"``, or ``"fetch"``
        for a file that no loader parses.
    accession
        Accession of the original data (GEO, ArrayExpress) or the upstream release, if any.
    licence
        What is known about the terms of use of the file and its upstream source.
    citation
        Publication(s) to cite when using the file.

    Notes
    -----
    ``repo``, ``commit`` and ``path`` are empty for derived files, which no URL serves.
    """

    filename: str
    repo: str
    commit: str
    path: str
    sha256: str
    description: str
    size_bytes: int | None = None
    loader: tuple[str, ...] = ()
    accession: str = ""
    licence: str = ""
    citation: str = ""

    @property
    def url(self) -> str:
        """Raw download URL of the pinned file (empty for derived files, which have none)."""
        if not self.repo:
            return ""
        return f"https://raw.githubusercontent.com/{self.repo}/{self.commit}/{self.path}"


#: Columns of the registry CSV, in the order in which they are written.
REGISTRY_COLUMNS: tuple[str, ...] = (
    "filename",
    "url",
    "repo",
    "commit",
    "path",
    "sha256",
    "size_bytes",
    "loader",
    "accession",
    "licence",
    "citation",
    "description",
)

#: Name of the registry CSV inside this package (``data/registry.csv`` in a source checkout
#: is a symbolic link to it).
REGISTRY_FILE = "registry.csv"

_SHA256 = re.compile(r"[0-9a-f]{64}")
_COMMIT = re.compile(r"[0-9a-f]{40}")
_REPO = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")
_SIZE = re.compile(r"[1-9][0-9]*")
_FILENAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.+-]*")
_LOADER = re.compile(r"(load:)?[A-Za-z_][A-Za-z0-9_]*")
_REQUIRED = ("filename", "sha256", "size_bytes", "loader", "licence", "citation", "description")


def _parse_row(row: dict[str, str], where: str) -> RemoteFile:
    """One validated :class:`RemoteFile` from a CSV row; ``where`` names the row in errors."""
    empty = [col for col in _REQUIRED if not row[col].strip()]
    if empty:
        raise RegistryFormatError(f"{where}: empty {', '.join(empty)}")
    filename = row["filename"]
    if not _FILENAME.fullmatch(filename):
        raise RegistryFormatError(
            f"{where}: filename {filename!r} is not a plain file name (letters, digits, '_', "
            f"'.', '+', '-'; no folders)"
        )
    if not _SHA256.fullmatch(row["sha256"]):
        raise RegistryFormatError(
            f"{where} ({filename}): sha256 {row['sha256']!r} is not 64 lower-case hex digits"
        )
    if not _SIZE.fullmatch(row["size_bytes"]):
        raise RegistryFormatError(
            f"{where} ({filename}): size_bytes {row['size_bytes']!r} is not a positive integer"
        )
    repo, commit, path = row["repo"], row["commit"], row["path"]
    if any((repo, commit, path)):
        if not _REPO.fullmatch(repo):
            raise RegistryFormatError(
                f"{where} ({filename}): repo {repo!r} is not a GitHub 'owner/name'"
            )
        if not _COMMIT.fullmatch(commit):
            raise RegistryFormatError(
                f"{where} ({filename}): commit {commit!r} is not a full 40-hex commit hash"
            )
        if not path or path.startswith("/") or path != path.strip():
            raise RegistryFormatError(
                f"{where} ({filename}): path {path!r} is not a path inside the repository"
            )
    loaders = tuple(row["loader"].split(";"))
    bad = [name for name in loaders if not _LOADER.fullmatch(name)]
    if bad:
        raise RegistryFormatError(
            f"{where} ({filename}): loader entries {bad} are neither a function name nor "
            f"'load:<dataset>' (entries are separated by ';')"
        )
    entry = RemoteFile(
        filename=filename,
        repo=repo,
        commit=commit,
        path=path,
        sha256=row["sha256"],
        description=row["description"],
        size_bytes=int(row["size_bytes"]),
        loader=loaders,
        accession=row["accession"],
        licence=row["licence"],
        citation=row["citation"],
    )
    if row["url"] != entry.url:
        raise RegistryFormatError(
            f"{where} ({filename}): url {row['url']!r} differs from the URL built from "
            f"repo, commit and path: {entry.url!r}"
        )
    return entry


def read_registry(source: str | os.PathLike | None = None) -> dict[str, RemoteFile]:
    """Read and validate a registry CSV.

    Parameters
    ----------
    source
        Path of a registry CSV; ``None`` reads the one shipped in this package
        (``scmaskgan/datasets/registry.csv``, linked from ``data/registry.csv``).

    Returns
    -------
    dict of str to RemoteFile
        The registered files by file name, in the order of the rows.

    Raises
    ------
    RegistryFormatError
        The header does not name exactly the columns of :data:`REGISTRY_COLUMNS`, a row has
        a wrong number of fields or an invalid value (``sha256`` not 64 lower-case hex
        digits, ``size_bytes`` not a positive integer, ``url`` not the one built from
        ``repo``/``commit``/``path``, ...), or a file name appears twice. The message names
        the file and the line.
    """
    if source is None:
        resource = importlib.resources.files(__package__).joinpath(REGISTRY_FILE)
        name = f"{__package__}/{REGISTRY_FILE}"
        raw = resource.read_bytes()
    else:
        name = os.fspath(source)
        raw = Path(source).read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RegistryFormatError(f"{name} is not UTF-8 text: {exc}") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None:
        raise RegistryFormatError(
            f"{name} is empty; its header must be {','.join(REGISTRY_COLUMNS)}"
        )
    missing = [col for col in REGISTRY_COLUMNS if col not in header]
    unknown = [col for col in header if col not in REGISTRY_COLUMNS]
    repeated = sorted({col for col in header if header.count(col) > 1})
    if missing or unknown or repeated:
        raise RegistryFormatError(
            f"{name}, line 1: the header must name the columns {', '.join(REGISTRY_COLUMNS)}; "
            f"missing: {missing or 'none'}, unknown: {unknown or 'none'}, "
            f"repeated: {repeated or 'none'}"
        )
    entries: dict[str, RemoteFile] = {}
    lines: dict[str, int] = {}
    for fields in reader:
        where = f"{name}, line {reader.line_num}"
        if not fields:
            continue
        if len(fields) != len(header):
            raise RegistryFormatError(
                f"{where}: {len(fields)} fields, but the header has {len(header)} columns"
            )
        entry = _parse_row(dict(zip(header, fields)), where)
        if entry.filename in entries:
            raise RegistryFormatError(
                f"{where}: duplicate filename {entry.filename!r} (first on line "
                f"{lines[entry.filename]})"
            )
        entries[entry.filename] = entry
        lines[entry.filename] = reader.line_num
    if not entries:
        raise RegistryFormatError(f"{name} has a header but no rows")
    return entries


#: All registered files, by file name (read from ``registry.csv`` at import).
REGISTRY: dict[str, RemoteFile] = read_registry()

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
