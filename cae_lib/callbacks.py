"""Keras callbacks of a training run: resumable early stopping and the per-epoch checkpoint.

A run keeps its progress in one folder (``progress/`` of its cache folder).
After every epoch :class:`EpochCheckpoint` writes, in this order:

1. ``best-<epoch>.npz``: the weights of the best epoch so far, when this epoch
   is a new best (early stopping restores them at the end);
2. ``checkpoint-<epoch>.keras``: the model with its optimizer state;
3. ``state.json``: the epoch, the history so far, the early-stopping state
   (best loss, best epoch, patience count, whether it stopped) and the names
   of the two files above. It is written last and atomically: it is the
   commit point, and it never names a file that is not complete.

Older checkpoints and best-weight files are removed only after the new
``state.json`` is in place. :func:`read_progress` reads it back;
:class:`ResumableEarlyStopping` picks up where the interrupted run stopped,
which Keras' own ``EarlyStopping`` cannot (it forgets its best loss, its
patience count and its best weights when a fit starts again).

Importing this module imports Keras.
"""

from __future__ import annotations

import contextlib
import io
import time
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from cae_lib import cache

__all__ = ["ResumableEarlyStopping", "EpochCheckpoint", "Progress", "read_progress", "load_weights_file",
    "save_weights_file",
]

STATE = "state.json"


class ResumableEarlyStopping(keras.callbacks.EarlyStopping):
    """``EarlyStopping`` on ``val_loss`` with best weights restored, that can resume.

    Args:
        patience: epochs without a lower validation loss before training stops.
        monitor: the quantity watched (lower is better).

    Example:
        >>> es = ResumableEarlyStopping(patience=3)
        >>> es.restore(best=0.5, best_epoch=1, wait=1, best_weights=None)
        >>> es.state()["best_epoch"]
        1
    """

    def __init__(self, patience: int, monitor: str = "val_loss"):
        if not isinstance(patience, int) or isinstance(patience, bool) or patience < 1:
            raise ValueError(f"patience must be a positive integer, got {patience!r}")
        super().__init__(monitor=monitor, mode="min", patience=patience, restore_best_weights=True)
        self._restored = False
        self.improved = False

    def restore(self, *, best: float | None, best_epoch: int, wait: int, best_weights) -> None:
        """Take the state an interrupted run saved (used before ``fit`` resumes)."""
        self.best, self.best_epoch, self.wait = best, best_epoch, wait
        self.best_weights = best_weights
        self._restored = True

    def state(self) -> dict:
        """The state a resumed run needs: ``best``, ``best_epoch`` (0-based), ``wait``."""
        best = None if self.best is None else float(self.best)
        return {"best": best, "best_epoch": int(self.best_epoch), "wait": int(self.wait)}

    def on_train_begin(self, logs=None):
        if not self._restored:
            super().on_train_begin(logs)
        self.stopped_epoch = 0

    def on_epoch_end(self, epoch, logs=None):
        before = self.best
        super().on_epoch_end(epoch, logs)
        self.improved = self.best_epoch == epoch and (before is None or self.best != before)


def save_weights_file(path: Path, weights, epoch: int) -> None:
    """Write a list of weight arrays (and the epoch) to ``.npz`` atomically."""
    buffer = io.BytesIO()
    np.savez(buffer, epoch=np.int64(epoch), **{f"w{i}": w for i, w in enumerate(weights)})
    cache.write_bytes(path, buffer.getvalue())


def load_weights_file(path: Path) -> tuple[int, list[np.ndarray]]:
    """Read :func:`save_weights_file`'s file: ``(epoch, weights)``.

    Raises:
        cache.CacheError: the file is missing, truncated or not such a file.
    """
    try:
        with np.load(path) as stored:
            n = len(stored.files) - 1
            return int(stored["epoch"]), [stored[f"w{i}"] for i in range(n)]
    except Exception as exc:  # zipfile, OSError, KeyError, ValueError: all mean unreadable
        raise cache.CacheError(f"{path} is unreadable ({type(exc).__name__}: {exc})") from None


@dataclass
class Progress:
    """What ``state.json`` says of an unfinished run.

    Attributes:
        epochs_done: epochs completed (the next epoch to train, 0-based).
        history: per-epoch ``loss``, ``val_loss``, metrics and ``epoch_seconds``.
        checkpoint: path of the model (with optimizer state) after the last epoch.
        early_stopping: ``ResumableEarlyStopping.state()``, or ``None`` when off.
        best_weights: path of the best epoch's weights, or ``None``.
        stopped: early stopping ended the run.
    """

    epochs_done: int
    history: dict
    checkpoint: Path
    early_stopping: dict | None
    best_weights: Path | None
    stopped: bool


def read_progress(folder: Path) -> Progress | None:
    """The saved progress in ``folder``, ``None`` if nothing was saved yet.

    Raises:
        cache.CacheError: ``state.json`` or a file it names is unreadable or missing.
    """
    path = folder / STATE
    if not path.exists():
        return None
    state = cache.read_json(path)
    try:
        checkpoint = folder / state["checkpoint"]
        best = state.get("best_weights")
        progress = Progress(
            epochs_done=int(state["epochs_done"]),
            history={k: [float(v) for v in vals] for k, vals in state["history"].items()},
            checkpoint=checkpoint,
            early_stopping=state.get("early_stopping"),
            best_weights=None if best is None else folder / best,
            stopped=bool(state["stopped"]),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise cache.CacheError(f"{path} is malformed ({type(exc).__name__}: {exc})") from None
    for needed in (progress.checkpoint, progress.best_weights):
        if needed is not None and not needed.is_file():
            raise cache.CacheError(f"{path} names {needed.name}, which is missing")
    return progress


class EpochCheckpoint(keras.callbacks.Callback):
    """Save the run's progress after every epoch (see the module docstring).

    Put it after :class:`ResumableEarlyStopping` in the callback list, so
    that it sees the early-stopping decision of the epoch it saves.

    Args:
        folder: the progress folder (created if missing).
        history: the history of the epochs before this fit (resumed runs).
        early_stopping: the run's early stopping, or ``None``.
    """

    def __init__(self, folder: Path, history: dict | None = None, early_stopping=None):
        super().__init__()
        if not folder:
            raise ValueError("EpochCheckpoint needs a progress folder")
        self.folder = Path(folder)
        self.history = {k: list(v) for k, v in (history or {}).items()}
        self.early_stopping = early_stopping
        self.epochs_this_call = 0
        self._t0 = 0.0
        self._best_name = None

    def on_train_begin(self, logs=None):
        cache.ensure_dir(cache.refuse_link(self.folder, "run's progress folder"))
        progress = read_progress(self.folder) if (self.folder / STATE).exists() else None
        if progress is not None and progress.best_weights is not None:
            self._best_name = progress.best_weights.name

    def on_epoch_begin(self, epoch, logs=None):
        self.history = {k: v[:epoch] for k, v in self.history.items()}
        self._t0 = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        logs = dict(logs or {})
        logs["epoch_seconds"] = time.perf_counter() - self._t0
        for k, v in logs.items():
            self.history.setdefault(k, []).append(float(v))
        self.epochs_this_call += 1
        es = self.early_stopping
        keep = set()
        if es is not None and es.improved:
            self._best_name = f"best-{epoch + 1:04d}.npz"
            save_weights_file(self.folder / self._best_name, es.best_weights, es.best_epoch)
        if self._best_name is not None:
            keep.add(self._best_name)
        checkpoint = f"checkpoint-{epoch + 1:04d}.keras"
        cache.save_model(self.model, self.folder / checkpoint)
        keep.add(checkpoint)
        cache.write_json(
            self.folder / STATE,
            {
                "epochs_done": epoch + 1,
                "history": self.history,
                "checkpoint": checkpoint,
                "early_stopping": None if es is None else es.state(),
                "best_weights": self._best_name,
                "stopped": bool(self.model.stop_training),
            },
        )
        for old in self.folder.iterdir():
            if old.name not in keep and old.name != STATE and (old.suffix in (".keras", ".npz")):
                with contextlib.suppress(OSError):
                    old.unlink()
