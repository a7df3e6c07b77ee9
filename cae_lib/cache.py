"""The run cache on disk: folders, atomic writes, manifests, locks, and what to do with a bad entry.

Every trained run and every search lives in a folder of the cache root
(:func:`cache_root`: an argument, else ``CAE_CACHE``, else
``~/.cache/cae_lib/runs``) named ``<name>-<first 16 hex of its key>``. This
module knows nothing of Keras or of what a run is; :mod:`cae_lib.training`
and :mod:`cae_lib.tuning` decide what goes into a folder.

Guarantees:

- **Atomic files.** Every file goes through :func:`write_atomically`, which writes a temporary
  file in the same folder, ``fsync`` it and ``os.replace`` it into place, so a
  reader sees the old file or the new one, never half of one.
- **A finished folder says what it is.** :func:`write_manifest`, written last,
  lists every artifact's size and SHA-256 together with the folder's key;
  :func:`verify` checks all of them, so a truncated, altered or renamed folder
  is refused (:class:`CacheError`) before anything in it is trusted.
- **Nothing is deleted.** :func:`move_aside` renames an unusable folder to
  ``<folder>.broken-<time>`` and warns, naming the reason.
- **One writer at a time.** :func:`locked` holds an OS file lock
  (``<folder>.lock`` beside the folder) while a run trains, so a second
  process waits and then finds the first one's result.
- **Clear errors.** Any ``OSError`` (read-only cache, full disk, a file where
  a folder should be) becomes a :class:`CacheError` of one line that names
  the path and the fix.

Example:
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp()) / "demo-0123"
    >>> folder.mkdir()
    >>> write_json(folder / "a.json", {"x": 1})
    >>> write_manifest(folder, ["a.json"], key="k1")
    >>> verify(folder, ["a.json"], key="k1")["key"]
    'k1'
    >>> verify(folder, ["a.json"], key="k2")
    Traceback (most recent call last):
    ...
    cae_lib.cache.CacheError: ... belongs to key k1..., not k2...: it was copied or renamed from another configuration
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
import warnings
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "CACHE_ENV",
    "CacheError",
    "cache_root",
    "entry_dir",
    "write_atomically",
    "write_bytes",
    "save_model",
    "write_json",
    "read_json",
    "sha256",
    "manifest_of",
    "write_manifest",
    "verify",
    "move_aside",
    "locked",
    "ensure_dir",
    "refuse_link",
    "check_owner",
    "UntrustedError",
    "clean_leftovers",
    "memo",
]

CACHE_ENV = "CAE_CACHE"
MANIFEST = "manifest.json"
#: Seconds between the "waiting for another process" notes while a lock is held elsewhere.
LOCK_NOTICE_SECONDS = 30.0


class CacheError(RuntimeError):
    """A cache entry or folder cannot be used; the message names the path and what to do."""


def cache_root(cache_dir: str | os.PathLike | None = None) -> Path:
    """The cache folder: ``cache_dir``, else ``CAE_CACHE``, else ``~/.cache/cae_lib/runs``.

    Example:
        >>> cache_root("/tmp/x")
        PosixPath('/tmp/x')
    """
    if cache_dir is None:
        cache_dir = (os.environ.get(CACHE_ENV) or "").strip() or Path.home() / ".cache" / "cae_lib" / "runs"
    return Path(cache_dir).expanduser()


def entry_dir(root: Path, name: str, key: str) -> Path:
    """The folder of an entry: ``root / f"{name}-{key[:16]}"``.

    Example:
        >>> entry_dir(Path("/c"), "given_mse", "0123456789abcdef0123")
        PosixPath('/c/given_mse-0123456789abcdef')
    """
    return root / f"{name}-{key[:16]}"


def _fs_error(action: str, path: Path, exc: OSError) -> CacheError:
    reason = exc.strerror or type(exc).__name__
    hint = {
        30: "the cache is read-only: set CAE_CACHE (or pass cache_dir) to a writable folder",
        13: "no permission: set CAE_CACHE (or pass cache_dir) to a folder you can write",
        28: "the disk is full: free space or set CAE_CACHE to a folder on another disk",
        20: "a file stands where a folder should be: remove it or set CAE_CACHE to a folder",
        17: "a file stands where a folder should be: remove it or set CAE_CACHE to a folder",
    }.get(exc.errno or 0, "check the path, or set CAE_CACHE to another folder")
    return CacheError(f"cannot {action} {path}: {reason}; {hint}")


def refuse_link(path: Path, what: str = "cache folder") -> Path:
    """``path`` itself, unless it is a symbolic link: the cache never writes, moves or deletes through one.

    A link planted where a run's folder or its ``progress`` folder belongs would
    make the per-epoch checkpoint delete files elsewhere; such a link is refused
    with one line, and nothing is followed.

    Raises:
        CacheError: ``path`` is a symbolic link (the message names where it points).

    Example:
        >>> import tempfile
        >>> root = Path(tempfile.mkdtemp())
        >>> (root / "run").symlink_to(root)
        >>> refuse_link(root / "run")
        Traceback (most recent call last):
        ...
        cae_lib.cache.CacheError: cannot use ... is a symbolic link (to ...); the cache never writes or deletes through links, so remove the link
    """
    if path.is_symlink():
        raise CacheError(f"cannot use {path}: the {what} is a symbolic link (to {os.readlink(path)}); the cache "
                         "never writes or deletes through links, so remove the link")
    return path


def ensure_dir(path: Path) -> Path:
    """Create ``path`` (and parents); a clear :class:`CacheError` when that is impossible."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError as exc:
        raise _fs_error("create the folder", path, exc) from None
    except OSError as exc:
        raise _fs_error("create the folder", path, exc) from None
    if not path.is_dir():
        raise CacheError(f"cannot use {path}: it is a file, not a folder; remove it or set CAE_CACHE to a folder")
    return path


def write_atomically(path: Path, write: Callable[[Path], Any]) -> None:
    """Write ``path`` through ``write(temporary path)``, then fsync and ``os.replace`` it into place.

    The one route every file of the cache is written by (JSON, arrays, Keras
    models): a reader sees the old file or the new one, never half of one, and
    a failed write leaves no temporary file behind. The temporary file sits in
    the same folder and keeps ``path``'s suffix (Keras chooses the format by it).

    Raises:
        CacheError: the file cannot be written (one line naming the path and the fix).
    """
    tmp = path.with_name(f".{path.stem}.tmp-{os.getpid()}{path.suffix}")
    try:
        write(tmp)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise _fs_error("write", path, exc) from None
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_leftovers(folder: Path) -> list[Path]:
    """Delete the temporary files of :func:`write_atomically` that a killed writer left in ``folder``.

    Only regular files named like its temporaries (``.<stem>.tmp-<pid><suffix>``) whose process no longer
    runs are removed; links and everything else are left alone.

    Returns:
        The files removed.

    Example:
        >>> import tempfile
        >>> folder = Path(tempfile.mkdtemp())
        >>> _ = (folder / ".model.tmp-999999999.keras").write_bytes(b"half")
        >>> [p.name for p in clean_leftovers(folder)], list(folder.iterdir())
        (['.model.tmp-999999999.keras'], [])
    """
    import re

    removed = []
    if not folder.is_dir() or folder.is_symlink():
        return removed
    for path in folder.iterdir():
        match = re.fullmatch(r"\..+\.tmp-(\d+)(\.[^.]*)?", path.name)
        if match and not path.is_symlink() and path.is_file() and not _pid_alive(int(match.group(1))):
            with contextlib.suppress(OSError):
                path.unlink()
                removed.append(path)
    return removed


def write_bytes(path: Path, payload: bytes) -> None:
    """Write ``payload`` to ``path`` atomically (:func:`write_atomically`)."""
    write_atomically(path, lambda tmp: tmp.write_bytes(payload))


def save_model(model, path: Path) -> None:
    """``model.save`` to ``path`` atomically (:func:`write_atomically`)."""
    write_atomically(path, model.save)


def _json_default(o):
    if isinstance(o, (np.floating, np.integer, np.bool_)):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"cannot write {type(o).__name__} to JSON")


def write_json(path: Path, obj: Any) -> None:
    """Write ``obj`` as indented, key-sorted JSON, atomically (NumPy scalars and arrays allowed)."""
    text = json.dumps(obj, indent=2, sort_keys=True, default=_json_default) + "\n"
    write_bytes(path, text.encode())


def read_json(path: Path) -> Any:
    """Read a JSON file; :class:`CacheError` naming the file if it is missing, empty or malformed."""
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise CacheError(f"{path} is unreadable ({type(exc).__name__}: {exc})") from exc


def sha256(path: Path) -> str:
    """SHA-256 hex digest of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def manifest_of(folder: Path, names: Iterable[str], *, key: str, extra: dict | None = None) -> dict:
    """What :func:`write_manifest` writes: the key and each file's size and SHA-256 (names relative to ``folder``)."""
    files = {n: {"size": (folder / n).stat().st_size, "sha256": sha256(folder / n)} for n in names}
    return {"key": key, "files": files, **(extra or {})}


def write_manifest(folder: Path, names: Iterable[str], *, key: str, extra: dict | None = None) -> None:
    """Write ``folder/manifest.json`` last: the key and each file's size and SHA-256."""
    write_json(folder / MANIFEST, manifest_of(folder, names, key=key, extra=extra))


class UntrustedError(CacheError):
    """An entry of a cache others can write that another user made: refused, never loaded or moved."""


def check_owner(folder: Path, names: Iterable[str] = ()) -> None:
    """In a cache folder that its group or others can write, refuse ``folder`` and files another user owns.

    A shared cache is trusted as far as its owners are: entries made by this
    user load; an entry another user planted in a group- or world-writable
    cache is refused with one line naming it and its owner (give each user
    their own ``CAE_CACHE``, or share one only within a group you trust, with
    the group's write bit off for everyone else).

    Raises:
        UntrustedError: ``folder`` (or one of ``names`` in it) belongs to another user.

    Example:
        >>> import tempfile
        >>> check_owner(Path(tempfile.mkdtemp()))  # a private folder: nothing to check
    """
    import stat

    try:
        parent_mode = folder.parent.stat().st_mode
    except OSError:
        return
    if not parent_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return
    me = os.getuid()
    for path in (folder, folder / MANIFEST, *(folder / n for n in names)):
        try:
            owner = path.lstat().st_uid
        except OSError:
            continue
        if owner != me:
            try:
                import pwd

                who = f"{pwd.getpwuid(owner).pw_name} (uid {owner})"
            except (ImportError, KeyError):
                who = f"uid {owner}"
            raise UntrustedError(
                f"refusing {path}: it belongs to {who}, not to you, in {folder.parent}, which others can write; "
                "the cache loads only entries its own user made (use a CAE_CACHE of your own)"
            )


def verify(folder: Path, names: Iterable[str], *, key: str) -> dict:
    """Check a finished folder against its manifest and return the manifest.

    Raises:
        UntrustedError: another user's entry in a cache others can write (:func:`check_owner`).
        CacheError: the manifest is unreadable, belongs to another key, does
            not list a file, or a file is missing, of another size or of
            another SHA-256.
    """
    names = list(names)
    check_owner(folder, names)
    manifest_path = folder / MANIFEST
    manifest = read_json(manifest_path)
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
        raise CacheError(f"{manifest_path} is malformed (no 'files' table)")
    stored_key = manifest.get("key")
    if stored_key != key:
        raise CacheError(
            f"{folder} belongs to key {str(stored_key)[:16]}..., not {key[:16]}...: "
            "it was copied or renamed from another configuration"
        )
    files = manifest["files"]
    for name in names:
        entry = files.get(name)
        target = folder / name
        if not isinstance(entry, dict):
            raise CacheError(f"{manifest_path} does not list {name}")
        if not target.is_file():
            raise CacheError(f"{target} is missing")
        size = target.stat().st_size
        if size != entry.get("size"):
            raise CacheError(f"{target} has {size} bytes, the manifest says {entry.get('size')} (truncated or altered)")
        if sha256(target) != entry.get("sha256"):
            raise CacheError(f"{target} does not match its SHA-256 in the manifest (altered or corrupted)")
    return manifest


def move_aside(path: Path, reason: str, *, what: str = "cached run") -> Path | None:
    """Rename an unusable ``path`` to ``<path>.broken-<time>`` and warn; never delete.

    Returns the new path, or ``None`` when the cache is read-only (the warning
    then says so, and the caller must not write there either).
    """
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.name}.broken-{stamp}")
    n = 1
    while target.exists():
        target = path.with_name(f"{path.name}.broken-{stamp}-{n}")
        n += 1
    try:
        path.rename(target)
    except OSError as exc:
        warnings.warn(
            f"{what} {path} is unusable: {reason}. It could not be moved aside ({exc.strerror}); "
            "set CAE_CACHE to a writable folder to retrain it there.",
            RuntimeWarning,
            stacklevel=3,
        )
        return None
    warnings.warn(
        f"{what} {path} is unusable: {reason}. It was moved to {target} and will be rebuilt.",
        RuntimeWarning,
        stacklevel=3,
    )
    return target


@contextlib.contextmanager
def locked(folder: Path, *, notice=print) -> Iterator[None]:
    """Hold an exclusive OS lock on ``<folder>.lock`` for the ``with`` block.

    Another process asking for the same lock waits (saying so every
    :data:`LOCK_NOTICE_SECONDS`), then goes on once the first is done. The
    lock file stays beside the folder, so moving the folder aside never
    breaks a lock.

    Raises:
        CacheError: the lock file cannot be created (read-only cache, ...).
    """
    from filelock import FileLock, Timeout

    ensure_dir(folder.parent)
    lock = FileLock(str(folder.with_name(folder.name + ".lock")))
    waited = 0.0
    while True:
        try:
            lock.acquire(timeout=LOCK_NOTICE_SECONDS)
            break
        except Timeout:
            waited += LOCK_NOTICE_SECONDS
            notice(f"waiting for another process that holds {folder.name} ({waited:.0f} s so far)")
        except OSError as exc:
            raise _fs_error("lock", folder, exc) from None
    try:
        yield
    finally:
        lock.release()


def memo(name: str, key_fields: dict, compute, *, cache_dir=None, what: str = "cached result",
         group: str = "results") -> dict:
    """A dict of NumPy arrays computed once and kept in the cache: ``compute()`` or the stored copy.

    For results that take more than a few seconds and are not training runs
    (a PCA fitted on the training part, a classical denoiser's scores). The
    folder ``<root>/results/<name>-<key>`` holds ``arrays.npz`` and a manifest
    with the key; a damaged entry is reported, moved aside and computed again,
    and a finished one loads from a read-only cache.

    Args:
        name: a label (letters, digits, ``-``, ``_``, ``.``; not starting with ``.``).
        key_fields: everything the result depends on (JSON-serialisable).
        compute: a function returning ``{name: array}``.
        cache_dir: cache folder (default :func:`cache_root`).
        what: how warnings name the entry.
        group: the cache's sub-folder: ``"results"`` (what a runs archive exports) or ``"data"`` (kept on
            this machine only, e.g. a decoded copy of the data set).

    Example:
        >>> import tempfile
        >>> root = tempfile.mkdtemp()
        >>> memo("squares", {"n": 3}, lambda: {"x": np.arange(3) ** 2}, cache_dir=root)["x"]
        array([0, 1, 4])
    """
    import io

    from cae_lib import keys, validate

    validate.name(name, "cache.memo name")  # it names a folder of the cache
    key = keys.digest({"name": name, **key_fields})
    if group not in ("results", "data"):
        raise ValueError(f"cache.memo group must be 'results' or 'data', got {group!r}")
    folder = refuse_link(entry_dir(cache_root(cache_dir) / group, name, key), "cached result's folder")

    def load():
        if not (folder / MANIFEST).exists():
            return None
        try:
            verify(folder, ["arrays.npz"], key=key)
            with np.load(folder / "arrays.npz", allow_pickle=False) as stored:
                return {k: stored[k] for k in stored.files}
        except UntrustedError:
            raise
        except (CacheError, OSError, ValueError) as exc:
            move_aside(folder, str(exc), what=what)
            return None

    found = load()
    if found is not None:
        return found
    with locked(folder):
        found = load()
        if found is not None:
            return found
        arrays = {k: np.asarray(v) for k, v in compute().items()}
        ensure_dir(folder)
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        write_bytes(folder / "arrays.npz", buffer.getvalue())
        write_json(folder / "key.json", key_fields)
        write_manifest(folder, ["arrays.npz", "key.json"], key=key)
    return arrays
