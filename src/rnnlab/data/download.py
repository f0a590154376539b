"""Getting a registered file onto disk: local mirror, then cache, then download, sha256 always.

Lookup order for a file ``NAME`` of a dataset stored under ``SUBDIR`` (e.g. ``sentiment/sst``):

1. ``$RNNLAB_DATA/SUBDIR/NAME``: a local mirror laid out like the project's ``shared/data``;
2. ``$RNNLAB_DATA/SUBDIR/REPACK`` for each of the file's ``mirror_repacks`` in turn: the same
   content under another name and sha256 (a mirror that repacked an archive), checked against
   its own sha256 and accepted from the mirror only;
3. ``$RNNLAB_CACHE/SUBDIR/NAME`` (default ``~/.cache/rnnlab``): earlier downloads;
4. each URL in turn, downloaded with a tqdm progress bar to a temporary file beside its cache
   path, checked, and only then renamed into place (``os.replace``), so the cache never holds a
   partial or unchecked file. A file without URLs (a repack only a mirror holds) stops at 3.

The sha256 is checked every time a file is used, wherever it came from; a mismatch is a
:class:`ChecksumError` that names the file and says what to do.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from tqdm.auto import tqdm

from rnnlab.data.errors import ChecksumError, MissingDataError

__all__ = [
    "RemoteFile",
    "cache_dir",
    "download",
    "fetch",
    "file_key",
    "mirror_dir",
    "sha256_file",
]

logger = logging.getLogger(__name__)

_CHUNK = 1 << 20


@dataclass(frozen=True)
class RemoteFile:
    """One file of a dataset: where it comes from and what it must hash to.

    ``urls=()`` makes a file that only a mirror (or a copy put into the cache by hand) can
    provide. ``mirror_repacks`` are ``(file name, sha256)`` alternatives that :func:`fetch`
    accepts from the mirror folder only, never from the cache or a download: e.g. an archive
    a mirror repacked, whose bytes no URL serves.
    """

    name: str  # file name in the mirror and the cache
    urls: tuple[str, ...]  # tried in order; all must serve these exact bytes; () = mirror only
    sha256: str  # lower-case hex digest
    size: int | None = None  # bytes, informative (progress bar total when the server omits it)
    mirror_repacks: tuple[tuple[str, str], ...] = ()  # (name, sha256), tried after NAME

    def __post_init__(self) -> None:
        _check_name(self.name)
        if isinstance(self.urls, str) or not isinstance(self.urls, tuple):
            raise ValueError(f"urls must be a tuple of URLs, got {self.urls!r}")
        _check_sha256(self.sha256)
        if not isinstance(self.mirror_repacks, tuple):
            raise ValueError(f"mirror_repacks must be a tuple, got {self.mirror_repacks!r}")
        names = [self.name]
        for repack in self.mirror_repacks:
            if not (isinstance(repack, tuple) and len(repack) == 2):
                raise ValueError(f"a mirror repack is a (file name, sha256) pair, got {repack!r}")
            _check_name(repack[0])
            _check_sha256(repack[1])
            names.append(repack[0])
        if len(set(names)) != len(names):
            raise ValueError(f"mirror_repacks repeat a file name: {names}")


def _check_name(name: object) -> None:
    if not isinstance(name, str) or not name or "/" in name or "\\" in name:
        raise ValueError(f"name must be a bare file name, got {name!r}")


def _check_sha256(sha256: object) -> None:
    if (
        not isinstance(sha256, str)
        or len(sha256) != 64
        or any(c not in "0123456789abcdef" for c in sha256)
    ):
        raise ValueError(f"sha256 must be 64 lower-case hex digits, got {sha256!r}")


def mirror_dir() -> Path | None:
    """The local mirror ``$RNNLAB_DATA``, or ``None`` when unset or empty."""
    root = os.environ.get("RNNLAB_DATA")
    return Path(root).expanduser() if root else None


def cache_dir() -> Path:
    """The download cache: ``$RNNLAB_CACHE``, default ``~/.cache/rnnlab``."""
    root = os.environ.get("RNNLAB_CACHE")
    return Path(root).expanduser() if root else Path.home() / ".cache" / "rnnlab"


def sha256_file(path: str | os.PathLike) -> str:
    """The sha256 of a file's bytes, as lower-case hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def file_key(path: str | os.PathLike) -> tuple[str, int, int]:
    """``(absolute path, size, modification time in ns)``: what tells a file already read (and
    cached in memory) from a changed one, without hashing it again."""
    path = Path(path)
    stat = path.stat()
    return str(path.resolve()), stat.st_size, stat.st_mtime_ns


def download(
    url: str, dest: str | os.PathLike, sha256: str, progress: bool = True, size: int | None = None
) -> Path:
    """Download ``url`` to ``dest`` atomically, verifying its sha256 on the way.

    The bytes go to a temporary file in ``dest``'s folder, hashed as they arrive; only when the
    digest matches is the file renamed to ``dest``. On any failure nothing is left behind.

    Args:
        url: any URL ``urllib`` opens (``https://``, ``file://``).
        dest: final path; its folder is created.
        sha256: expected lower-case hex digest.
        progress: show a tqdm progress bar (on stderr).
        size: expected bytes, for the bar when the server sends no Content-Length.

    Raises:
        ChecksumError: the downloaded bytes hash differently (nothing is written).
        urllib.error.URLError, OSError: the download failed (nothing is written).
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=60) as response:
            length = response.headers.get("Content-Length")
            total = int(length) if length else size
            with tqdm(
                total=total, unit="B", unit_scale=True, desc=dest.name, disable=not progress
            ) as bar:
                while chunk := response.read(_CHUNK):
                    out.write(chunk)
                    digest.update(chunk)
                    bar.update(len(chunk))
        actual = digest.hexdigest()
        if actual != sha256:
            raise ChecksumError(
                f"{dest.name} downloaded from {url} has sha256 {actual}, expected {sha256}: "
                "the download is corrupt or the file changed upstream; nothing was saved"
            )
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    logger.info("downloaded %s to %s", url, dest)
    return dest


def _check(path: Path, sha256: str, remedy: str) -> Path:
    actual = sha256_file(path)
    if actual != sha256:
        raise ChecksumError(
            f"{path} has sha256 {actual}, expected {sha256}: the file is corrupt or a "
            f"different version; {remedy}"
        )
    return path


def fetch(file: RemoteFile, subdir: str, progress: bool = True) -> Path:
    """A verified local path for ``file``: mirror (its name, then its repacks), else cache, else
    a download into the cache.

    Args:
        file: the registered file.
        subdir: its dataset's folder in the mirror and the cache, e.g. ``"sentiment/sst"``.
        progress: show a progress bar while downloading.

    Returns:
        The path of the file, or of a repack of it in the mirror (``path.name`` tells which).

    Raises:
        ChecksumError: a found or downloaded file has the wrong sha256.
        MissingDataError: not found locally and every URL failed, or a mirror-only file (no URLs)
            not found (the message says where to put the file by hand).
    """
    mirror = mirror_dir()
    if mirror is not None:
        source = f"the original from {file.urls[0]}" if file.urls else "the data mirror's copy"
        path = mirror / subdir / file.name
        if path.is_file():
            logger.info("using %s from the local mirror", path)
            return _check(path, file.sha256, f"replace it with {source}")
        for name, sha256 in file.mirror_repacks:
            path = mirror / subdir / name
            if path.is_file():
                logger.info("using %s from the local mirror, a repack of %s", path, file.name)
                return _check(path, sha256, f"replace it with the data mirror's copy or {source}")
        logger.info("%s is not in the mirror %s; trying the cache", file.name, mirror)
    cached = cache_dir() / subdir / file.name
    if cached.is_file():
        logger.info("using cached %s", cached)
        return _check(cached, file.sha256, "delete it and run again to download a fresh copy")
    failures = []
    for url in file.urls:
        logger.info("downloading %s from %s", file.name, url)
        try:
            return download(url, cached, file.sha256, progress=progress, size=file.size)
        except (urllib.error.URLError, OSError, ValueError) as e:
            if isinstance(e, ChecksumError):
                raise
            logger.warning("could not download %s: %s", url, e)
            failures.append(f"{url} ({getattr(e, 'reason', e)})")
    folder = f"{mirror / subdir}/" if mirror is not None else f"$RNNLAB_DATA/{subdir}/"
    if not file.urls:
        raise MissingDataError(
            f"{file.name} cannot be downloaded: only a data mirror holds it (no URL serves "
            f"these bytes); set RNNLAB_DATA to a mirror with {folder}{file.name} "
            f"(sha256 {file.sha256})"
        )
    where = f"{folder} or " if mirror is not None else ""
    repacks = "".join(
        f", or its repack {name} (sha256 {sha256}) into {folder}"
        for name, sha256 in file.mirror_repacks
    )
    raise MissingDataError(
        f"{file.name} is not available locally and could not be downloaded from "
        f"{'; '.join(failures)}; put the file (sha256 {file.sha256}) into {where}"
        f"{cached.parent}/{repacks}, or set RNNLAB_DATA to a local copy of the data"
    )
