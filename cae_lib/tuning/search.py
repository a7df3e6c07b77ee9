"""Running a search: keras-tuner's tuners, the distributed role, the stored state and :func:`search`."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import json
import math
import os
import shutil
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keras_tuner as kt
import numpy as np

from cae_lib import cache, models, tasks, training, validate
from cae_lib.data import load_data, stratified_subset
from cae_lib.models import CAESpec
from cae_lib.profiles import Profile, get_profile
from cae_lib.tuning.report import best_per_latent, search_space_rows, trial_rows
from cae_lib.tuning.space import (
    CONVS_PER_STAGE,
    GIVEN_LATENT_SIZE,
    KERNEL_SIZES,
    LEARNING_RATE_RANGE,
    OBJECTIVE,
    CAEHyperModel,
    declared_space,
)

__all__ = [
    "KINDS",
    "SEARCH_STAMP",
    "SearchResult",
    "search",
    "search_dir",
    "storage_failure",
    "trial_images",
    "distributed_role",
]

KINDS = ("hyperband", "random", "bayesian")
"""Search algorithms: keras-tuner's Hyperband, RandomSearch, BayesianOptimization."""

_ENV_ID, _ENV_IP, _ENV_PORT = "KERASTUNER_TUNER_ID", "KERASTUNER_ORACLE_IP", "KERASTUNER_ORACLE_PORT"
#: Part of every search's key; bump it when the stored format or the trial procedure changes.
SEARCH_STAMP = "tuning-1"


#: A trial does not start with less free space than this on the search's disk (a trial writes its
#: weights and state; TensorFlow can crash outright when a write meets a full disk).
MIN_FREE_BYTES = 64 << 20


class _StorageFailure(kt.errors.FatalError):
    """A trial stopped by the disk (full, read-only, an I/O error): the search stops, the trial is not failed."""


def storage_failure(exc: BaseException | None) -> str | None:
    """Why ``exc`` (or an exception it was raised from) is a failure of the disk, or ``None`` if it is not.

    TensorFlow and h5py report a full disk in exceptions of their own, not as
    ``OSError``; their messages are read for the operating system's wording.

    Example:
        >>> storage_failure(OSError(28, "No space left on device"))
        'No space left on device'
        >>> storage_failure(RuntimeError("Unable to synchronously write data (No space left on device)"))
        'Unable to synchronously write data (No space left on device)'
        >>> storage_failure(ValueError("a bad hyperparameter")) is None
        True
    """
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, (_StorageFailure, cache.CacheError)):
            return str(exc)
        if isinstance(exc, OSError):
            return exc.strerror or str(exc) or type(exc).__name__
        text = str(exc)
        if any(word in text.lower() for word in _STORAGE_WORDS):
            return text.strip().splitlines()[0][:300]
        exc = exc.__cause__ or exc.__context__
    return None


_STORAGE_WORDS = ("no space left on device", "disk quota exceeded", "read-only file system",
                  "input/output error", "errno = 28", "errno 28")


@contextlib.contextmanager
def _atomic_state_writes():
    """Make keras-tuner write its state files (``oracle.json``, ``trial.json``, ...) atomically.

    keras-tuner opens and writes them in place, so a full disk or a kill in the
    middle leaves half a file that stops every later reload. While a search runs,
    its ``save_json`` goes through :func:`cache.write_bytes` instead (write a
    temporary file, fsync, rename): a file is the old one or the new one. keras-tuner
    offers no hook for this; the original function is put back afterwards.
    """
    from keras_tuner.src import utils as kt_utils

    original = kt_utils.save_json

    def save_json(path, obj):
        text = json.dumps(obj)
        cache.write_bytes(Path(path), text.encode())
        return text

    kt_utils.save_json = save_json
    try:
        yield
    finally:
        kt_utils.save_json = original


class _RecordTrials:
    """Keeps the ids of the trials this process trained (in ``trials_run_here``); stops on a failing disk.

    keras-tuner counts any exception in a trial as that trial's failure and goes
    on to the next one; a full disk would fail every remaining trial, and a rerun
    would not run them again. A failure of the disk is raised instead (the trial
    stays unfinished, so the next run trains it again), and a trial does not
    start with less than :data:`MIN_FREE_BYTES` free.
    """

    def __init__(self, *args, **kwargs):
        self.trials_run_here: list[str] = []
        super().__init__(*args, **kwargs)

    def _run_and_update_trial(self, trial, *fit_args, **fit_kwargs):
        try:
            free = shutil.disk_usage(self.project_dir).free
        except OSError:
            free = None
        if free is not None and free < MIN_FREE_BYTES:
            raise _StorageFailure(f"only {free / 2**20:.0f} MiB are free on the disk that holds it")
        try:
            return super()._run_and_update_trial(trial, *fit_args, **fit_kwargs)
        except kt.errors.FatalError:
            raise
        except Exception as exc:
            reason = storage_failure(exc)
            if reason is None:
                raise
            raise _StorageFailure(reason) from exc

    def on_trial_end(self, trial):
        self.trials_run_here.append(trial.trial_id)
        super().on_trial_end(trial)

    def _configure_tensorboard_dir(self, callbacks, trial, execution=0):
        # keras-tuner (1.4) imports TensorBoard's hparams plugin for every trial
        # under the TensorFlow backend, even without a TensorBoard callback, and
        # offers no public switch; TensorFlow no longer installs TensorBoard.
        # Only go there when a TensorBoard callback is used.
        if any(type(c).__name__ == "TensorBoard" for c in callbacks):
            super()._configure_tensorboard_dir(callbacks, trial, execution)


class _RandomSearch(_RecordTrials, kt.RandomSearch):
    pass


class _BayesianOptimization(_RecordTrials, kt.BayesianOptimization):
    pass


class _Hyperband(_RecordTrials, kt.Hyperband):
    pass


def distributed_role() -> str:
    """``"local"``, ``"chief"`` or ``"worker"``, from keras-tuner's environment variables.

    ``KERASTUNER_ORACLE_IP`` set means a distributed search; the process whose
    ``KERASTUNER_TUNER_ID`` contains ``"chief"`` runs the oracle.

    Raises:
        ValueError: ``KERASTUNER_ORACLE_IP`` is set without ``KERASTUNER_ORACLE_PORT``
            or ``KERASTUNER_TUNER_ID``.

    Example:
        >>> distributed_role()  # no KERASTUNER_* variables set
        'local'
    """
    if _ENV_IP not in os.environ:
        return "local"
    missing = [v for v in (_ENV_PORT, _ENV_ID) if not os.environ.get(v)]
    if missing:
        raise ValueError(
            f"{_ENV_IP} is set (a distributed search) but {' and '.join(missing)} "
            f"{'is' if len(missing) == 1 else 'are'} not; set {_ENV_ID}=chief on the chief and "
            f"{_ENV_ID}=tuner0, tuner1, ... on the workers, and {_ENV_PORT} everywhere"
        )
    role = "chief" if "chief" in os.environ[_ENV_ID] else "worker"
    if role == "chief":
        _check_chief_address(os.environ[_ENV_IP])
    return role


#: Set to ``1`` to let a chief serve keras-tuner's oracle on an address other machines can reach.
TRUST_NETWORK_ENV = "CAE_TUNER_TRUST_NETWORK"


def _check_chief_address(address: str) -> None:
    """Refuse a chief that would serve the oracle beyond this machine unless the network is declared trusted.

    keras-tuner's oracle speaks unauthenticated gRPC: whoever reaches its port
    can take trials and report scores. The chief binds to loopback unless
    :data:`TRUST_NETWORK_ENV` is ``1``; workers elsewhere reach it through an
    SSH tunnel (``ssh -N -L 8000:127.0.0.1:8000 chief-host``) or a private network.
    """
    import ipaddress

    try:
        loopback = address == "localhost" or ipaddress.ip_address(address).is_loopback
    except ValueError:
        loopback = False
    if not loopback and os.environ.get(TRUST_NETWORK_ENV) != "1":
        raise ValueError(
            f"the chief would serve keras-tuner's oracle on {address}, which other machines can reach, and the "
            "oracle has no authentication: bind it to 127.0.0.1 and give workers an SSH tunnel "
            f"(ssh -N -L PORT:127.0.0.1:PORT chief-host), or set {TRUST_NETWORK_ENV}=1 on a private network"
        )


def search_dir(name: str, key: str, cache_dir: str | os.PathLike | None = None) -> Path:
    """Folder of a search: ``cache_root(cache_dir) / "tuner" / f"{name}-{key[:16]}"``."""
    return cache.entry_dir(cache.cache_root(cache_dir) / "tuner", name, key)


def _trial_row(trial, hypermodel: CAEHyperModel) -> dict:
    values = dict(trial.hyperparameters.values)
    try:
        spec = hypermodel.spec_from_values(values)
    except ValueError:
        spec = hypermodel.spec  # a row for what was reported; rejects() says why it is no trial of this search
    metrics = trial.metrics

    def best(name):
        return float(metrics.get_best_value(name)) if metrics.exists(name) else None

    def last(name):
        return metrics.get_last_value(name) if metrics.exists(name) else None

    epochs = last("epochs_run")
    seconds = last("seconds")
    rejected = hypermodel.rejects(values)
    return {
        "trial_id": trial.trial_id,
        "status": "REJECTED" if rejected else str(trial.status),
        "rejected": rejected,
        "hyperparameters": values,
        "spec": spec.to_dict(),
        "latent_shape": list(spec.latent_shape),
        "latent_size": spec.latent_size,
        "params": models.param_count(spec),
        "learning_rate": float(values.get("learning_rate", float("nan"))),
        "val_mse": best(OBJECTIVE),
        "val_loss": best("val_loss"),
        "epochs_run": None if epochs is None else int(epochs),
        "seconds": None if seconds is None else float(seconds),
    }


def _recorded_trials(tuner, path: Path, role: str) -> list:
    """The trials the oracle knows (chief, local), or those on disk (a worker)."""
    if role != "worker":
        return list(tuner.oracle.trials.values())
    from keras_tuner.engine.trial import Trial

    trials = []
    for fname in sorted(path.glob("trial_*/trial.json")):
        try:
            trials.append(Trial.load(str(fname)))
        except (OSError, ValueError, KeyError):
            continue  # being written by the chief right now
    return trials


def _sort_key(row: dict):
    tid = row["trial_id"]
    return (0, int(tid), "") if str(tid).isdigit() else (1, 0, str(tid))


@dataclass
class SearchResult:
    """What :func:`search` returns.

    Attributes:
        name: the search's name.
        kind: ``"hyperband"``, ``"random"`` or ``"bayesian"``.
        role: ``"local"``, ``"chief"`` or ``"worker"`` (see :func:`distributed_role`).
        path: the search's folder (keras-tuner's project directory).
        key: SHA-256 of the search's settings and data (names the folder).
        latent_budget: the budget (``None``: none).
        objective: ``"val_mse"``.
        trials: one dict per trial, by trial id: ``trial_id``, ``status``
            (``COMPLETED``, ``FAILED``, ``INVALID``, ``RUNNING``),
            ``hyperparameters`` (keras-tuner's values; Hyperband adds
            ``tuner/*`` entries), ``spec`` (a :class:`CAESpec` dict),
            ``latent_shape``, ``latent_size``, ``params``, ``learning_rate``,
            ``val_mse`` (the objective, best epoch), ``val_loss``,
            ``epochs_run`` (epochs this trial trained) and ``seconds``.
            On a worker it holds what the shared folder showed when the worker
            stopped; the chief's is complete.
        best_trial: the completed trial with the lowest ``val_mse`` (or ``None``).
        best: ``best_trial`` as a :class:`~cae_lib.training.RunConfig` named
            ``f"{name}_best"``, for :func:`cae_lib.training.run`.
        space: ``[{"hyperparameter", "choices", "default", "condition"}]``,
            the search space (:func:`search_space_rows`).
        trials_run_here: ids of the trials this process trained in this call.
        tuner: the keras-tuner tuner, or ``None`` when a finished search was
            reloaded from its stored result without keras-tuner.
    """

    name: str
    kind: str
    role: str
    path: Path
    key: str
    latent_budget: int | None
    objective: str
    trials: list[dict]
    best_trial: dict | None
    best: training.RunConfig | None
    space: list[dict] = field(default_factory=list)
    trials_run_here: list[str] = field(default_factory=list)
    tuner: Any = field(default=None, repr=False, compare=False)

    @property
    def completed(self) -> list[dict]:
        """The rows whose status is ``COMPLETED``."""
        return [t for t in self.trials if t["status"] == "COMPLETED"]

    def best_per_latent(self) -> list[dict]:
        """:func:`best_per_latent` of :attr:`trials`."""
        return best_per_latent(self.trials)

    def table_rows(self) -> list[dict]:
        """:func:`trial_rows` of :attr:`trials`: the trials table, best first."""
        return trial_rows(self.trials)

    def budget_sizes(self) -> list[int]:
        """The latent sizes the search could sample under its budget, smallest first."""
        return sorted({t["latent_size"] for t in self.trials})


def _make_tuner(kind, hypermodel, *, path, overwrite, seed, max_trials, max_epochs, strategy, role):
    common = dict(
        hypermodel=hypermodel,
        objective=kt.Objective(OBJECTIVE, direction="min"),
        # keras-tuner reads seed=0 as "no seed" and draws a random one
        seed=seed + 1,
        directory=str(path.parent),
        project_name=path.name,
        overwrite=overwrite,
        distribution_strategy=strategy,
    )
    if kind == "random":
        return _RandomSearch(max_trials=max_trials, **common)
    if kind == "bayesian":
        return _BayesianOptimization(max_trials=max_trials, num_initial_points=max(3, max_trials // 3), **common)
    # Hyperband brackets are set by max_epochs (factor 3); it repeats them (no
    # iteration limit) until max_trials trials, the budget of every kind.
    tuner = _Hyperband(max_epochs=max_epochs, factor=3, hyperband_iterations=None, **common)
    if role != "worker":  # a worker's oracle is a client of the chief's, which holds the budget
        tuner.oracle.max_trials = max_trials
    return tuner


def _damaged_state(path: Path) -> list[Path]:
    """keras-tuner state files in ``path`` that are not valid JSON."""
    damaged = []
    for fname in [path / "oracle.json", *sorted(path.glob("trial_*/trial.json")), *sorted(path.glob("*.json"))]:
        if fname.name in ("search.json", "results.json") or not fname.is_file():
            continue
        try:
            json.loads(fname.read_text())
        except (OSError, ValueError):
            damaged.append(fname)
    return sorted(set(damaged))


def _open_tuner(kind, hypermodel, *, path, overwrite, seed, max_trials, max_epochs, strategy, role, verbose):
    """Build the tuner and reload its stored state; a damaged state file is named, with the way out."""
    reload_oracle = not overwrite and role != "worker" and (path / "oracle.json").is_file()
    damaged = [] if overwrite else _damaged_state(path)
    if damaged:
        names = ", ".join(str(d) for d in damaged)
        trials = [d for d in damaged if d.name == "trial.json"]
        advice = (
            f"move the damaged trial folder{'s' if len(trials) > 1 else ''} "
            f"{', '.join(str(t.parent) for t in trials)} aside (those trials are run again, the others are kept)"
            if trials and len(trials) == len(damaged)
            else "rerun with --overwrite (overwrite=True) to start the search again"
        )
        raise cache.CacheError(f"keras-tuner state file {names} is damaged (not valid JSON): {advice}")
    try:
        with contextlib.redirect_stdout(sys.stdout if verbose else io.StringIO()):
            # keras-tuner prints "Reloading Tuner from ..." when it resumes a search
            tuner = _make_tuner(
                kind, hypermodel, path=path, overwrite=overwrite, seed=seed,
                max_trials=max_trials, max_epochs=max_epochs, strategy=strategy, role=role,
            )
            if reload_oracle and not (path / f"{tuner.tuner_id}.json").is_file():
                # a search run under other tuner ids (a distributed search): keras-tuner
                # only reloads when it finds this id's own file; reload the oracle itself.
                tuner.oracle.reload()
    except OSError as exc:
        raise cache.CacheError(f"cannot open the search in {path}: {exc.strerror or exc}") from None
    return tuner


def _state_files(path: Path) -> list[str]:
    """The files of a search its manifest covers: its records, the oracle's state and every trial's."""
    names = [n for n in ("search.json", "results.json", "oracle.json") if (path / n).is_file()]
    return names + sorted(p.relative_to(path).as_posix() for p in path.glob("trial_*/trial.json"))


def _finished_result(path: Path, key: str, max_trials: int) -> dict | None:
    """The stored ``results.json`` of a finished search with this key and at least ``max_trials`` trials.

    The search's manifest must vouch for it and for every trial's state: a
    hand-edited or truncated file is refused with the way out. A search stored
    without a manifest (by an older version) is reopened by keras-tuner instead,
    which writes one.

    Raises:
        cae_lib.cache.CacheError: a file differs from the manifest, or the manifest from the folder.
    """
    try:
        stored = json.loads((path / "results.json").read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(stored, dict) or stored.get("key") != key:
        return None
    trials = stored.get("trials") or []
    ended = [t for t in trials if t.get("status") in ("COMPLETED", "FAILED", "INVALID")]
    if len(ended) < max_trials or len(ended) != len(trials) or not (path / cache.MANIFEST).is_file():
        return None
    try:
        listed = cache.read_json(path / cache.MANIFEST).get("files") or {}
        cache.verify(path, sorted(set(_state_files(path)) | set(listed)), key=key)
    except (cache.CacheError, AttributeError) as exc:
        raise cache.CacheError(f"the finished search {path} does not match its manifest ({exc}); move the folder "
                               "aside and search again (or pass --overwrite)") from None
    return stored


def _write_if_changed(path: Path, obj: Any) -> None:
    try:
        if json.loads(path.read_text()) == json.loads(json.dumps(obj, default=str)):
            return  # nothing new: a finished search also reloads from a read-only cache
    except (OSError, ValueError):
        pass
    cache.ensure_dir(path.parent)
    cache.write_json(path, obj)


def trial_images(arrays, labels, per_class: int | None) -> np.ndarray:
    """The training images a search's trials train on: ``per_class`` of each class, or all.

    Args:
        arrays: the ``reconstruct`` task's :class:`cae_lib.tasks.TaskData`.
        labels: the data set's labels (:attr:`cae_lib.data.CifarData.labels`).
        per_class: training images per class (``None``: the whole training part).

    Example:
        >>> from types import SimpleNamespace
        >>> labels = np.array([0, 1] * 5)
        >>> arrays = SimpleNamespace(train_index=np.arange(8), x_train=np.arange(8) * 10)
        >>> picked = trial_images(arrays, labels, 2)
        >>> np.bincount(labels[picked // 10]).tolist()  # two images of each class
        [2, 2]
        >>> len(trial_images(arrays, labels, None))
        8
    """
    if per_class is None:
        return arrays.x_train
    keep = stratified_subset(arrays.train_index, labels, per_class)
    return arrays.x_train[np.isin(arrays.train_index, keep)]


def search(
    name: str,
    *,
    kind: str = "hyperband",
    latent_budget: int | None = GIVEN_LATENT_SIZE,
    profile: str | Profile | None = None,
    data=None,
    cache_dir: str | os.PathLike | None = None,
    max_trials: int | None = None,
    max_epochs: int | None = None,
    overwrite: bool = False,
    seed: int = 0,
    loss: str = "mse",
    batch_size: int = 64,
    patience: int | None = training.DEFAULT_PATIENCE,
    best_epochs: int = training.DEFAULT_EPOCHS,
    strategy=None,
    verbose: int = 0,
) -> SearchResult:
    """Search architectures within a latent budget; resume or reload a stored search.

    Trials train on the profile's training split and are scored on its
    validation split (``val_mse``); the test split is left for
    :func:`cae_lib.training.run` on :attr:`SearchResult.best`. Under
    ``KERASTUNER_*`` variables this process takes its part in a distributed
    search (:mod:`cae_lib.tuning`). A finished search is reloaded from its stored
    result without keras-tuner, so it also loads from a read-only cache.

    Args:
        name: names the search folder and the best run (``f"{name}_best"``);
            letters, digits, ``-``, ``_`` and ``.``.
        kind: ``"hyperband"`` (default), ``"random"`` or ``"bayesian"``.
        latent_budget: largest latent size allowed (default 1024, the given
            network's); ``None`` for no limit.
        profile: a profile or its name (default ``CAE_PROFILE``): the data
            subset and the budget, ``tuner_max_trials`` trials of at most
            ``tuner_max_epochs`` epochs, trained on ``tuner_train_per_class``
            images per class and validated on the whole validation part.
        data: a :class:`cae_lib.data.CifarData` (default: :func:`cae_lib.data.load_data`).
        cache_dir: cache folder (default :func:`cae_lib.cache.cache_root`).
        max_trials: trial budget (default: the profile's). Not part of the
            key: a larger value on a stored search adds trials.
        max_epochs: most epochs per trial (default: the profile's).
        overwrite: delete the stored search and start again (ignored, with a
            warning, on a distributed worker). ``False``: resume.
        seed: seeds the sampler, weight initialisation and batch order.
        loss: training loss (the objective stays ``val_mse``).
        batch_size: images per step, in trials and in the best run.
        patience: early stopping inside a trial and in the best run (``None``: off).
        best_epochs: the epochs the best run asks for.
        strategy: a ``tf.distribute`` strategy each trial builds and trains under.
        verbose: Keras/keras-tuner verbosity (0: quiet).

    Returns:
        A :class:`SearchResult`.

    Raises:
        ValueError: an unknown kind or loss, a bad name or budget, a profile
            that leaves no training or validation images, or incomplete
            ``KERASTUNER_*`` variables.
        ImportError: ``kind="bayesian"`` without scikit-learn installed.
        cae_lib.cache.CacheError: a damaged keras-tuner state file (named), or
            a cache that cannot be written where the search must write.

    Usage (trains, or needs a CIFAR-10 copy)::

        result = search("latent", kind="random", profile="smoke", cache_dir="/tmp/c")
        [(t["latent_size"], t["val_mse"]) for t in result.best_per_latent()]
    """
    _check_kind(kind)
    validate.name(name, "search name")
    seed = validate.non_negative_int(seed, "seed")
    patience = None if patience is None else validate.positive_int(patience, "patience")
    best_epochs = validate.positive_int(best_epochs, "best_epochs")
    prof, max_trials, max_epochs = _trial_budget(profile, max_trials, max_epochs)
    role = distributed_role()
    hypermodel = CAEHyperModel(loss=loss, latent_budget=latent_budget, batch_size=batch_size, seed=seed)

    arrays, x_train = _search_data(data, prof)

    settings = _settings(name=name, kind=kind, latent_budget=latent_budget, loss=loss, seed=seed,
                         max_epochs=max_epochs, patience=patience, prof=prof, hypermodel=hypermodel)
    stamp = [training.CACHE_STAMP, SEARCH_STAMP]
    key = _search_key(settings, arrays, stamp)
    path = search_dir(name, key, cache_dir)
    best_config = functools.partial(_best_config, name=name, loss=loss, hypermodel=hypermodel, epochs=best_epochs,
                                    patience=patience, seed=seed, profile=prof.name)
    result = functools.partial(SearchResult, name=name, kind=kind, role=role, path=path, key=key,
                               latent_budget=latent_budget, objective=OBJECTIVE,
                               space=search_space_rows(declared_space(hypermodel)))

    stored = None if overwrite or role != "local" else _finished_result(path, key, max_trials)
    if stored is not None and stored.get("best_trial") is not None:
        why = hypermodel.rejects(stored["best_trial"].get("hyperparameters"))
        if why is None and stored["best_trial"].get("spec") != hypermodel.spec_from_values(
                stored["best_trial"]["hyperparameters"]).to_dict():
            why = "its architecture is not the one its hyperparameters describe"
        if why is not None:
            raise cache.CacheError(f"{path / 'results.json'}: the stored best trial is no trial of this search "
                                   f"({why}); move the folder aside and search again (or pass --overwrite)")
    if stored is not None:
        return result(trials=stored["trials"], best_trial=stored["best_trial"], best=best_config(stored["best_trial"]))

    overwrite = _overwrite_here(overwrite, role)
    cache.ensure_dir(path.parent)
    with cache.locked(path) if role == "local" else contextlib.nullcontext(), _atomic_state_writes():
        tuner = _open_tuner(kind, hypermodel, path=path, overwrite=overwrite, seed=seed, max_trials=max_trials,
                            max_epochs=max_epochs, strategy=strategy, role=role, verbose=verbose)
        if role != "worker":
            _write_if_changed(path / "search.json", _search_record(settings, key, arrays, stamp))
        try:
            _run_tuner(tuner, x_train, arrays, max_epochs=max_epochs, patience=patience, role=role, verbose=verbose)
        except _StorageFailure as exc:
            raise cache.CacheError(
                f"the search in {path} stopped: {exc}; free space (or set CAE_CACHE to another disk) and rerun the "
                "same command: the finished trials are kept and the interrupted one runs again") from None
        rows, best_trial = _recorded_rows(tuner, path, role, hypermodel)
        best = best_config(best_trial)
        if role != "worker":
            _write_if_changed(path / "results.json", _results_record(key, rows, best_trial, best))
            _write_if_changed(path / cache.MANIFEST, cache.manifest_of(path, _state_files(path), key=key))
    return result(trials=rows, best_trial=best_trial, best=best, trials_run_here=list(tuner.trials_run_here),
                  tuner=tuner)


def _check_kind(kind: str) -> None:
    """Refuse an unknown kind, or ``"bayesian"`` without scikit-learn."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    if kind == "bayesian":
        try:
            import sklearn  # noqa: F401  (keras-tuner's Gaussian process needs it)
        except ImportError:
            raise ImportError(
                "kind='bayesian' needs scikit-learn (pip install scikit-learn, or keras-tuner[bayesian]); "
                "kind='hyperband' and kind='random' do not"
            ) from None


def _trial_budget(profile, max_trials, max_epochs) -> tuple[Profile, int, int]:
    """The profile, the trials and the epochs per trial (the profile's unless given), checked."""
    prof = profile if isinstance(profile, Profile) else get_profile(profile)
    max_trials = validate.positive_int(prof.tuner_max_trials if max_trials is None else max_trials, "max_trials")
    max_epochs = validate.positive_int(prof.tuner_max_epochs if max_epochs is None else max_epochs, "max_epochs")
    return prof, max_trials, max_epochs


def _search_data(data, prof: Profile):
    """The ``reconstruct`` task's arrays of ``data`` (default: :func:`cae_lib.data.load_data`) and the trial images."""
    data = load_data() if data is None else data
    arrays = tasks.task_data("reconstruct", prof, data=data)
    return arrays, trial_images(arrays, data.labels, prof.tuner_train_per_class)


def _settings(*, name, kind, latent_budget, loss, seed, max_epochs, patience, prof, hypermodel) -> dict:
    """What a search's key covers besides its data and stamps: its arguments and its search space.

    Part of the key (:func:`_search_key`): any change here moves every stored search to a new folder.
    """
    return {
        "name": name,
        "kind": kind,
        "latent_budget": latent_budget,
        "loss": loss,
        "optimizer": hypermodel.optimizer,
        "batch_size": hypermodel.batch_size,
        "seed": seed,
        "max_epochs": max_epochs,
        "patience": patience,
        "profile": {
            "name": prof.name,
            "train_per_class": prof.train_per_class,
            "val_per_class": prof.val_per_class,
            "tuner_train_per_class": prof.tuner_train_per_class,
        },
        "space": {
            "spec": hypermodel.spec.to_dict(),
            "filters": [list(c) for c in hypermodel.filter_choices],
            "latent_channels": {p: list(c) for p, c in hypermodel.latent_channel_choices.items()},
            "convs_per_stage": list(CONVS_PER_STAGE),
            "kernel_size": list(KERNEL_SIZES),
            "learning_rate": list(LEARNING_RATE_RANGE),
        },
        "objective": OBJECTIVE,
    }


def _search_key(settings: dict, arrays, stamp: list) -> str:
    """SHA-256 of the settings, the data's fingerprint and split, and the stamps: names the search's folder."""
    return hashlib.sha256(
        json.dumps({"settings": settings, "data": arrays.fingerprint, "split": arrays.split, "stamp": stamp},
                   sort_keys=True).encode()
    ).hexdigest()


def _best_config(trial, *, name, loss, hypermodel, epochs, patience, seed, profile) -> training.RunConfig | None:
    """A trial row as the best run's :class:`~cae_lib.training.RunConfig`, ``f"{name}_best"`` (``None``: no trial)."""
    if trial is None:
        return None
    return training.RunConfig(
        name=f"{name}_best", model=CAESpec.from_dict(trial["spec"]), task="reconstruct", loss=loss,
        optimizer=hypermodel.optimizer, learning_rate=trial["learning_rate"], batch_size=hypermodel.batch_size,
        epochs=epochs, early_stopping_patience=patience, seed=seed, profile=profile,
    )


def _overwrite_here(overwrite: bool, role: str) -> bool:
    """``overwrite``, except on a distributed worker, which ignores it with a warning (at search()'s caller)."""
    if role == "worker" and overwrite:
        warnings.warn(
            "overwrite=True is ignored on a distributed worker (it would delete the chief's search); "
            "start the chief with overwrite instead",
            RuntimeWarning,
            stacklevel=3,
        )
        return False
    return overwrite


def _search_record(settings: dict, key: str, arrays, stamp: list) -> dict:
    """What ``search.json`` holds: the settings and key, the data's fingerprint, split and source, the versions."""
    return {"settings": settings, "key": key, "data_fingerprint": arrays.fingerprint, "split": arrays.split,
            "data_source": arrays.source, "stamp": stamp, "keras_tuner_version": kt.__version__}


def _results_record(key: str, rows: list[dict], best_trial: dict | None, best) -> dict:
    """What ``results.json`` holds: the key, every trial's row, the best trial and its run configuration."""
    return {"key": key, "trials": rows, "best_trial": best_trial,
            "best_config": None if best is None else best.to_dict()}


def _run_tuner(tuner, x_train, arrays, *, max_epochs, patience, role, verbose) -> None:
    """Run the trials on ``x_train``, scored on ``arrays``' validation part, with early stopping on the objective."""
    callbacks = []
    if patience is not None:
        import keras

        callbacks.append(keras.callbacks.EarlyStopping(monitor=OBJECTIVE, mode="min", patience=patience))
    tuner.search(
        x_train, x_train, validation_data=(arrays.x_val, arrays.y_val), epochs=max_epochs,
        callbacks=callbacks, verbose=verbose,
    )
    if role != "worker":
        # The oracle saves its state before it lets go of the trial that just
        # ended; on a chief nothing saves it afterwards, and a later reload
        # would run that finished trial again. Save the final state.
        tuner.save()


def _recorded_rows(tuner, path: Path, role: str, hypermodel: CAEHyperModel) -> tuple[list[dict], dict | None]:
    """The rows of the recorded trials, by trial id, and the completed one with the lowest finite ``val_mse``."""
    rows = sorted((_trial_row(t, hypermodel) for t in _recorded_trials(tuner, path, role)), key=_sort_key)
    completed = [
        r for r in rows if r["status"] == "COMPLETED" and r["val_mse"] is not None and math.isfinite(r["val_mse"])
    ]
    best_trial = min(completed, key=lambda r: (r["val_mse"], _sort_key(r))) if completed else None
    return rows, best_trial
