"""An archive of the run cache: export finished runs, searches and cached results; import them elsewhere.

A reader without a GPU should not wait hours for the book's numbers. ``cae runs
export FILE`` writes every finished entry of the cache into one zip file with an
index (``archive.json``): each entry's folder, kind, key, data fingerprint and
the size and SHA-256 of every file. ``cae runs import FILE`` puts them into
another machine's cache, and trusts nothing it has not checked:

- the archive is a zip with a readable index of this format, made by this
  version of ``cae_lib`` with this cache stamp;
- every entry belongs to this machine's data (a run trained on the JPEG mirror
  never loads as a run of the original CIFAR-10), and every run's key is
  recomputed here from its configuration, this data and this split;
- every file is extracted into a staging folder inside the cache and its size
  and SHA-256 checked, and every run's manifest verified, before anything lands;
- a finished entry already in the cache is kept, never overwritten; an
  unfinished one (a training in progress) is moved aside, never deleted;
- it is all or nothing: one bad entry refuses the whole import, and the cache is
  as it was.

Kinds of entry: ``run`` (a trained run: ``<name>-<key>/`` with its manifest),
``result`` (:func:`cae_lib.cache.memo`: ``results/<name>-<key>/``) and ``search``
(a keras-tuner search: ``tuner/<name>-<key>/`` with its ``search.json``).
Folders without a manifest (a run still training) and folders moved aside are
not exported.

Example:
    >>> import tempfile
    >>> empty = Path(tempfile.mkdtemp())
    >>> [e.path for e in entries(empty)]
    []
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from cae_lib import cache

__all__ = ["FORMAT", "INDEX", "ArchiveError", "Entry", "entries", "export", "import_archive", "is_url", "fetch"]

#: The archive layout's version (a reader refuses any other).
FORMAT = 1
#: The index's name inside the zip.
INDEX = "archive.json"
_KINDS = {"run": "", "result": "results/", "search": "tuner/"}


def _marker(kind: str) -> str:
    """The file whose presence says an entry of this kind is finished."""
    return "search.json" if kind == "search" else cache.MANIFEST


class ArchiveError(RuntimeError):
    """An archive that cannot be written or must not be imported; the message says why and what to do."""


@dataclass(frozen=True)
class Entry:
    """One folder of the cache, as the archive describes it."""

    path: str
    kind: str
    key: str
    data: str
    files: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"path": self.path, "kind": self.kind, "key": self.key, "data": self.data, "files": self.files}


def _files(folder: Path) -> dict:
    return {p.relative_to(folder).as_posix(): {"size": p.stat().st_size, "sha256": cache.sha256(p)}
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _describe(folder: Path, kind: str, prefix: str) -> Entry | None:
    try:
        if kind == "search":
            info = cache.read_json(folder / "search.json")
            key, data = info["key"], info["data_fingerprint"]
        else:
            key = cache.read_json(folder / cache.MANIFEST)["key"]
            data = (cache.read_json(folder / "config.json")["data_fingerprint"] if kind == "run"
                    else cache.read_json(folder / "key.json")["data"])
    except (cache.CacheError, KeyError, TypeError):
        return None
    return Entry(prefix + folder.name, kind, str(key), str(data), _files(folder))


def entries(cache_dir=None) -> list[Entry]:
    """The finished entries of a cache (runs, cached results, searches), sorted by path."""
    root = cache.cache_root(cache_dir)
    found = []
    for kind, prefix in _KINDS.items():
        base = root / prefix if prefix else root
        if not base.is_dir():
            continue
        for folder in sorted(base.iterdir()):
            if not folder.is_dir() or ".broken-" in folder.name or folder.name.startswith("."):
                continue
            if kind == "run" and folder.name in ("results", "tuner"):
                continue
            if (folder / _marker(kind)).is_file():
                entry = _describe(folder, kind, prefix)
                if entry is not None:
                    found.append(entry)
    return found


def export(path, cache_dir=None) -> list[Entry]:
    """Write every finished entry of the cache into the zip file ``path`` (which must not exist).

    The zip is written beside ``path`` under a temporary name and renamed into place at the end,
    so an interrupted export leaves no half archive under ``path``.

    Raises:
        ArchiveError: ``path`` exists, the cache has nothing finished, or the file cannot be written.
    """
    from cae_lib import __version__
    from cae_lib.training import CACHE_STAMP

    target = Path(path)
    if target.exists():
        raise ArchiveError(f"{target} exists: choose another file name (an archive is never overwritten)")
    root = cache.cache_root(cache_dir)
    found = entries(root)
    if not found:
        raise ArchiveError(f"the cache {root} holds no finished run, result or search to export")
    index = {"format": FORMAT, "cae_lib": __version__, "cache_stamp": CACHE_STAMP,
             "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "entries": [e.to_dict() for e in found]}
    partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
    try:
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(INDEX, json.dumps(index, indent=1, sort_keys=True))
            for e in found:
                for name in e.files:
                    zf.write(root / e.path / name, f"{e.path}/{name}")
        with open(partial, "rb") as f:
            os.fsync(f.fileno())
        os.replace(partial, target)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise ArchiveError(f"cannot write {target}: {exc.strerror or exc} (a full disk or a read-only folder?)") from None
    return found


def _safe(relative: str, what: str) -> str:
    parts = relative.split("/")
    if (not relative or relative.startswith("/") or "\\" in relative or any(p in ("", ".", "..") for p in parts)
            or "\x00" in relative):
        raise ArchiveError(f"the archive names {what} {relative!r}, which could leave the cache: it is not a runs archive")
    return relative


def _read_index(zf: zipfile.ZipFile, source: Path) -> dict:
    from cae_lib import __version__
    from cae_lib.training import CACHE_STAMP

    try:
        index = json.loads(zf.read(INDEX))
    except KeyError:
        raise ArchiveError(f"{source} has no {INDEX}: it is not a runs archive made by `cae runs export`") from None
    except (ValueError, zipfile.BadZipFile, OSError) as exc:
        raise ArchiveError(f"{source}'s index is unreadable ({exc}): the file is damaged; download it again") from None
    if not isinstance(index, dict) or index.get("format") != FORMAT or not isinstance(index.get("entries"), list):
        raise ArchiveError(f"{source} is not a runs archive of format {FORMAT}")
    if index.get("cae_lib") != __version__ or index.get("cache_stamp") != CACHE_STAMP:
        raise ArchiveError(
            f"{source} was made by cae_lib {index.get('cae_lib')} ({index.get('cache_stamp')}), this is {__version__} "
            f"({CACHE_STAMP}): its runs would not be this code's runs; use the archive published with this version")
    return index


def _entry(raw, source: Path) -> Entry:
    try:
        e = Entry(str(raw["path"]), str(raw["kind"]), str(raw["key"]), str(raw["data"]), dict(raw["files"]))
    except (KeyError, TypeError, ValueError):
        raise ArchiveError(f"{source} has a malformed entry {str(raw)[:80]!r}") from None
    prefix = _KINDS.get(e.kind)
    folder = e.path[len(prefix):] if prefix is not None and e.path.startswith(prefix) else None
    if folder is None or "/" in folder or not folder.endswith(e.key[:16]):
        raise ArchiveError(f"{source}: entry {e.path!r} of kind {e.kind!r} is not where the cache keeps such entries")
    _safe(e.path, "a folder")
    for name in e.files:
        _safe(name, "a file")
    return e


def _check_key(e: Entry, folder: Path, data, source: Path) -> None:
    """Verify a result's or a search's manifest, and recompute a run's key from its configuration on this data and split."""
    if e.kind == "result":
        try:
            cache.verify(folder, ["arrays.npz", "key.json"], key=e.key)
        except cache.CacheError as exc:
            raise ArchiveError(f"{source}: result {e.path}: {exc}") from None
    if e.kind == "search" and cache.MANIFEST in e.files:
        try:
            listed = cache.read_json(folder / cache.MANIFEST).get("files") or {}
            cache.verify(folder, sorted(listed), key=e.key)
        except (cache.CacheError, AttributeError) as exc:
            raise ArchiveError(f"{source}: search {e.path}: {exc}") from None
    if e.kind != "run":
        return
    from cae_lib.training import ARTIFACTS, RunConfig, locate

    try:
        config = RunConfig.from_dict(cache.read_json(folder / "config.json")["config"])
        _, key, expected = locate(config, data, cache_dir=folder.parent)
    except (cache.CacheError, KeyError, TypeError, ValueError) as exc:
        raise ArchiveError(f"{source}: run {e.path} has an unusable configuration ({exc})") from None
    if key != e.key or expected.name != folder.name:
        raise ArchiveError(f"{source}: run {e.path} does not have the key this code computes for its configuration "
                           "on this data; it belongs to another version or another split")
    try:
        cache.verify(folder, ARTIFACTS, key=key)
    except cache.CacheError as exc:
        raise ArchiveError(f"{source}: run {e.path}: {exc}") from None


def is_url(text: str) -> bool:
    """Whether ``text`` names a download (``https://``, ``http://`` or ``file://``) rather than a local path.

    Example:
        >>> is_url("https://example.org/book-runs-full.zip"), is_url("book-runs-full.zip")
        (True, False)
    """
    return str(text).lower().startswith(("https://", "http://", "file://"))


def fetch(url: str, sha256: str | None, cache_dir=None) -> Path:
    """A published archive downloaded through ``keras.utils.get_file``, checked against its SHA-256.

    The file lands in ``<cache>/downloads/`` (named after the URL's last part);
    one already there with the right hash is not downloaded again, and a
    download whose hash differs is refused and deleted.

    Args:
        url: where the archive is published (e.g. a release asset).
        sha256: its SHA-256 (64 hex digits), as ``cae runs export`` printed it. Required.
        cache_dir: the cache (default :func:`cae_lib.cache.cache_root`).

    Raises:
        ArchiveError: no or a malformed hash, a failed download, or a file of another hash.
    """
    import re
    from urllib.parse import urlparse

    if not sha256 or not re.fullmatch(r"[0-9a-f]{64}", sha256.strip().lower()):
        raise ArchiveError(f"importing from {url} needs the archive's SHA-256 (64 hex digits), as `cae runs export` "
                           "printed it: cae runs import URL --sha256 HASH")
    sha256 = sha256.strip().lower()
    name = Path(urlparse(url).path).name or "cae-runs.zip"
    folder = cache.ensure_dir(cache.cache_root(cache_dir) / "downloads")
    import keras

    try:
        path = Path(keras.utils.get_file(fname=name, origin=url, file_hash=sha256, hash_algorithm="sha256",
                                         cache_dir=str(folder.parent), cache_subdir=folder.name))
    except Exception as exc:  # keras raises ValueError for a wrong hash, URL and OS errors for the rest
        with contextlib.suppress(OSError):
            (folder / name).unlink()
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise ArchiveError(f"{url}: the download failed or is not the archive of SHA-256 {sha256[:16]}... ({reason})"
                           ) from None
    if cache.sha256(path) != sha256:  # get_file checks it too; the import must never rest on that alone
        path.unlink()
        raise ArchiveError(f"{url}: the downloaded file's SHA-256 is not {sha256[:16]}...; it was deleted")
    return path


def import_archive(path, cache_dir=None, data=None, source=None) -> dict[str, list[str]]:
    """Check an archive made by :func:`export` against this machine and put its entries into the cache.

    Args:
        path: the zip file.
        cache_dir: the cache (default :func:`cae_lib.cache.cache_root`).
        data: a :class:`cae_lib.data.CifarData` the entries must belong to (default: loaded from ``source``
            with :func:`cae_lib.data.load_data` once the archive's index has been read).
        source: the data's location when ``data`` is not given (default ``CAE_DATA``).

    Returns:
        ``{"imported": [paths], "kept": [paths already finished here], "moved_aside": [unfinished folders]}``.

    Raises:
        ArchiveError: anything wrong with the archive or any entry; nothing was changed in the cache.
    """
    from cae_lib.data import load_data

    data_source, source = source, Path(path)
    if not source.is_file():
        raise ArchiveError(f"{source} does not exist or is not a file")
    root = cache.ensure_dir(cache.cache_root(cache_dir))
    try:
        zf = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ArchiveError(f"{source} is not a readable zip ({exc}): truncated or damaged; download it again") from None
    staging = root / f".import-{os.getpid()}-{time.time_ns()}"
    try:
        with zf:
            index = _read_index(zf, source)
            found = [_entry(raw, source) for raw in index["entries"]]
            data = load_data(data_source) if data is None else data
            for e in found:
                if e.data != data.fingerprint:
                    raise ArchiveError(
                        f"{source}: {e.path} was computed on data {e.data}, this machine's data is {data.fingerprint} "
                        f"({data.source}); point CAE_DATA at the data the archive was made from")
            members = {f"{e.path}/{name}" for e in found for name in e.files}
            extra = set(zf.namelist()) - members - {INDEX}
            if extra:
                raise ArchiveError(f"{source} holds files its index does not list ({sorted(extra)[0]}, ...)")
            for e in found:
                for name, meta in e.files.items():
                    target = staging / e.path / name
                    target.parent.mkdir(parents=True, exist_ok=True)
                    try:
                        with zf.open(f"{e.path}/{name}") as src, open(target, "wb") as dst:
                            shutil.copyfileobj(src, dst)
                    except KeyError:
                        raise ArchiveError(f"{source} lacks {e.path}/{name}, which its index lists") from None
                    except (zipfile.BadZipFile, zlib.error) as exc:
                        raise ArchiveError(f"{source}: {e.path}/{name} is damaged ({exc}); download it again") from None
                    if target.stat().st_size != meta.get("size") or cache.sha256(target) != meta.get("sha256"):
                        raise ArchiveError(f"{source}: {e.path}/{name} does not match its SHA-256 in the index")
                _check_key(e, staging / e.path, data, source)
        return _land(found, staging, root)
    except OSError as exc:
        raise ArchiveError(f"cannot import into {root}: {exc.strerror or exc} (a full disk or a read-only cache?)") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _land(found: list[Entry], staging: Path, root: Path) -> dict[str, list[str]]:
    report = {"imported": [], "kept": [], "moved_aside": []}
    for e in found:
        destination = root / e.path
        with cache.locked(destination):
            if (destination / _marker(e.kind)).is_file():
                report["kept"].append(e.path)
                continue
            if destination.exists():
                cache.move_aside(destination, "an unfinished folder was replaced by an imported finished one",
                                 what="cache entry")
                report["moved_aside"].append(e.path)
            destination.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staging / e.path, destination)
            report["imported"].append(e.path)
    return report
