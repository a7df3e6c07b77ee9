"""Architecture search: the HyperModel, the latent budget, resuming, distribution.

In keras-tuner's own style: build with an empty ``HyperParameters()`` and
compare with the given network, override with ``hp.Fixed``, train one tiny
step on ``np.ones``. Searches run in the smoke profile (40/10 images per class
for training/validation, one epoch per trial) on synthetic data, in temporary
cache folders. The distributed search (a chief and two workers on loopback)
and the two-device ``MirroredStrategy`` run in subprocesses with time limits.
"""

import importlib.util
import json
import math
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import keras
import keras_tuner as kt
import numpy as np
import pytest

from cae_lib import cache, models, training, tuning
from cae_lib.models import CAESpec, given_cae, spec_of
from cae_lib.tables import markdown_table
from cae_lib.tuning import CAEHyperModel, LatentBudgetError, best_per_latent, search

pytestmark = pytest.mark.slow

#: The module cae_lib.tuning.search (the attribute tuning.search is the function).
search_module = importlib.import_module("cae_lib.tuning.search")

HERE = Path(__file__).resolve().parent
HELPER = HERE / "_tuner_worker.py"
SUBPROCESS_TIMEOUT = 150  # seconds, for all the processes of one test together


def _helper_module():
    spec = importlib.util.spec_from_file_location("_tuner_worker", HELPER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def tiny_data():
    """100 random 4x4 colour fields per class, enlarged to 32x32 (the helper's recipe)."""
    return _helper_module().synthetic_data()


@pytest.fixture(autouse=True)
def _not_distributed(monkeypatch):
    for var in ("KERASTUNER_TUNER_ID", "KERASTUNER_ORACLE_IP", "KERASTUNER_ORACLE_PORT"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def spies(monkeypatch):
    """Record every model build (its spec) and every trial fit (its hyperparameter values)."""
    built, fitted = [], []
    original_build, original_fit = models.build_cae, CAEHyperModel.fit

    def build_cae(spec=None, name="cae"):
        built.append(spec)
        return original_build(spec, name=name)

    def fit(self, hp, model, *args, **kwargs):
        fitted.append(dict(hp.values))
        return original_fit(self, hp, model, *args, **kwargs)

    monkeypatch.setattr(models, "build_cae", build_cae)
    monkeypatch.setattr(CAEHyperModel, "fit", fit)
    return built, fitted


def _layer_configs(model):
    skip = ("name", "dtype")
    return [
        (layer.name, type(layer).__name__, {k: v for k, v in layer.get_config().items() if k not in skip})
        for layer in model.layers
    ]


# --------------------------------------------------------------------------- the HyperModel


def test_empty_hyperparameters_build_the_given_network():
    hp = kt.HyperParameters()
    model = CAEHyperModel().build(hp)
    given = given_cae()
    # 3x3 convolutions: 9*3*8+8, 9*8*12+12, 9*12*16+16, 9*16*12+12, 9*12*3+3
    assert model.count_params() == 224 + 876 + 1744 + 1740 + 327 == 4911
    assert model.get_layer("encoder").output_shape == (None, 8, 8, 16)
    for part in ("encoder", "decoder"):
        assert _layer_configs(model.get_layer(part)) == _layer_configs(given.get_layer(part))
    assert hp.values == {
        "filters_1": 8, "filters_2": 12, "convs_per_stage": 1, "kernel_size": 3,
        "pooling": "max", "latent_channels": 16, "latent_activation": "relu", "learning_rate": 1e-3,
    }
    assert model.loss == "mse"
    assert float(model.optimizer.learning_rate) == pytest.approx(1e-3)
    assert model.get_compile_config()["metrics"] == ["mse"]


def test_fixed_hyperparameters_override_the_defaults():
    hp = kt.HyperParameters()
    hp.Fixed("filters_1", 16)
    hp.Fixed("convs_per_stage", 2)
    hp.Fixed("kernel_size", 5)
    hp.Fixed("pooling", "avg")
    hp.Fixed("latent_channels", 8)
    hp.Fixed("learning_rate", 0.01)
    model = CAEHyperModel().build(hp)
    want = CAESpec(filters=(16, 12, 8), convs_per_stage=2, kernel_size=5, pooling="avg")
    assert spec_of(model) == want
    assert model.get_layer("encoder").output_shape == (None, 8, 8, 8)
    assert isinstance(model.get_layer("encoder").get_layer("enc1_pool"), keras.layers.AveragePooling2D)
    # 5x5 kernels: 25*C_in*C_out + C_out over the ten convolutions; the decoder
    # mirrors the encoder (12, 12, then 16 and the 3-channel output)
    chain = [3, 16, 16, 12, 12, 8, 8, 12, 12, 16, 3]
    assert model.count_params() == sum(25 * a * b + b for a, b in zip(chain[:-1], chain[1:]))
    assert float(model.optimizer.learning_rate) == pytest.approx(0.01)


def test_unpooled_branch_keeps_the_latent_within_budget():
    hp = kt.HyperParameters()
    hp.Fixed("pooling", "none")
    model = CAEHyperModel().build(hp)
    assert model.get_layer("encoder").output_shape == (None, 32, 32, 1)  # 32*32*1 = 1024
    assert "latent_channels" not in hp.values and hp.values["latent_channels_unpooled"] == 1


def test_one_training_step_on_ones():
    hp = kt.HyperParameters()
    hypermodel = CAEHyperModel(batch_size=4)
    model = hypermodel.build(hp)
    x = np.ones((8, 32, 32, 3), np.float32)
    x_val = np.full((4, 32, 32, 3), 0.5, np.float32)
    out = hypermodel.fit(hp, model, x, validation_data=(x_val, x_val), epochs=1)
    assert set(out) == {"val_mse", "val_loss", "epochs_run", "seconds"}
    assert out["epochs_run"] == 1 and out["seconds"] > 0
    # the reported objective is what Keras measures on the validation data
    np.testing.assert_allclose(out["val_mse"], model.evaluate(x_val, x_val, verbose=0, return_dict=True)["mse"], rtol=1e-5)
    assert out["val_loss"] == pytest.approx(out["val_mse"], rel=1e-5)  # loss is mse


def test_fit_needs_validation_data():
    hp = kt.HyperParameters()
    hypermodel = CAEHyperModel()
    with pytest.raises(ValueError, match="validation_data"):
        hypermodel.fit(hp, hypermodel.build(hp), np.ones((2, 32, 32, 3), np.float32))


# --------------------------------------------------------------------------- the latent budget


@pytest.mark.parametrize(
    "budget, pooled, unpooled",
    [
        (1024, (4, 8, 12, 16), (1,)),  # 8*8*C <= 1024 and 32*32*C <= 1024
        (512, (4, 8), ()),
        (4096, (4, 8, 12, 16, 24, 32, 48, 64), (1, 2, 4)),
        (None, (4, 8, 12, 16, 24, 32, 48, 64), (1, 2, 4)),
    ],
)
def test_budget_shapes_the_space(budget, pooled, unpooled):
    hypermodel = CAEHyperModel(latent_budget=budget)
    assert hypermodel.latent_channel_choices == {"max": pooled, "avg": pooled, "none": unpooled, "stride": pooled}
    assert hypermodel.poolings == (("max", "avg", "none", "stride") if unpooled else ("max", "avg", "stride"))


def test_budget_below_every_architecture_is_refused():
    with pytest.raises(ValueError, match="smallest latent has 256 values"):
        CAEHyperModel(latent_budget=255)  # 8*8*4 = 256 is the smallest
    for bad in (0, -5, 2.5, True):
        with pytest.raises(ValueError, match="latent_budget"):
            CAEHyperModel(latent_budget=bad)


def _sampled_latents(budget, tmp_path, samples=300):
    tuner = search_module._RandomSearch(
        hypermodel=CAEHyperModel(latent_budget=budget),
        objective=kt.Objective("val_mse", "min"),
        max_trials=samples,
        seed=5,
        directory=str(tmp_path),
        project_name=f"space_{budget}",
    )
    hypermodel = tuner.hypermodel
    sizes = []
    for i in range(samples):
        values = tuner.oracle.populate_space(str(i))["values"]
        sizes.append(hypermodel.spec_from_values(values).latent_size)
    return set(sizes)


def test_sampler_never_proposes_an_over_budget_architecture(tmp_path):
    free = _sampled_latents(None, tmp_path)
    assert max(free) > 1024  # without a budget the space reaches 8*8*64 = 32*32*4 = 4096
    # with the given network's budget, every in-budget latent is reachable and nothing else
    assert _sampled_latents(1024, tmp_path) == {256, 512, 768, 1024}


def test_over_budget_values_are_rejected_before_building(spies):
    built, _ = spies
    hp = kt.HyperParameters()
    hp.Fixed("latent_channels", 32)  # 8*8*32 = 2048 > 1024
    with pytest.raises(LatentBudgetError, match="2048 values, over the budget of 1024") as info:
        CAEHyperModel().build(hp)
    assert isinstance(info.value, kt.errors.FailedTrialError)
    hp = kt.HyperParameters()
    hp.Fixed("pooling", "none")  # 32*32*16 > 512, and "none" is not in the 512 space at all
    with pytest.raises(LatentBudgetError):
        CAEHyperModel(latent_budget=512).build(hp)
    assert built == []


def test_keras_tuner_fails_over_budget_trials_without_training(spies, tmp_path):
    built, fitted = spies
    # A space sampled without a budget but checked against one: only the safety net in build() acts.
    hypermodel = CAEHyperModel(latent_budget=None, batch_size=4)
    tuner = search_module._RandomSearch(
        hypermodel=hypermodel,
        objective=kt.Objective("val_mse", "min"),
        max_trials=6,
        seed=2,
        directory=str(tmp_path),
        project_name="net",
        max_consecutive_failed_trials=7,
    )
    hypermodel.latent_budget = 1024
    built.clear()
    x = np.full((8, 32, 32, 3), 0.5, np.float32)
    tuner.search(x, validation_data=(x[:4], x[:4]), epochs=1, verbose=0)
    trials = list(tuner.oracle.trials.values())
    sizes = {t.trial_id: hypermodel.spec_from_values(t.hyperparameters.values).latent_size for t in trials}
    statuses = {t.trial_id: t.status for t in trials}
    assert len(trials) == 6
    assert {statuses[i] for i in sizes if sizes[i] > 1024} == {"FAILED"}
    assert {statuses[i] for i in sizes if sizes[i] <= 1024} == {"COMPLETED"}
    assert "FAILED" in statuses.values() and "COMPLETED" in statuses.values()  # both kinds were drawn
    assert all(spec.latent_size <= 1024 for spec in built)
    assert len(fitted) == sum(s <= 1024 for s in sizes.values())


# --------------------------------------------------------------------------- search


def test_search_within_budget_then_train_the_best(tiny_data, tmp_path, spies):
    built, fitted = spies
    result = search("hb", kind="hyperband", latent_budget=512, profile="smoke", data=tiny_data,
                    cache_dir=tmp_path, max_trials=3)
    assert result.role == "local" and result.objective == "val_mse"
    assert result.path.parent == tmp_path / "tuner" and result.path.name.startswith("hb-")
    assert (result.path / "oracle.json").is_file() and (result.path / "results.json").is_file()
    assert [t["trial_id"] for t in result.trials] == ["0", "1", "2"] == result.trials_run_here
    assert len(fitted) == 3
    assert built and all(spec.latent_size <= 512 for spec in built)
    for row in result.trials:
        assert row["status"] == "COMPLETED" and row["latent_size"] <= 512
        assert row["latent_size"] == math.prod(row["latent_shape"])
        assert row["params"] == models.param_count(CAESpec.from_dict(row["spec"]))
        assert math.isfinite(row["val_mse"]) and row["epochs_run"] == 1
        assert row["hyperparameters"]["tuner/epochs"] == 1  # Hyperband's bookkeeping is kept
    assert result.best_trial["val_mse"] == min(t["val_mse"] for t in result.trials)
    per_latent = best_per_latent(result.trials)
    assert [r["latent_size"] for r in per_latent] == sorted({t["latent_size"] for t in result.trials})

    best = result.best
    assert best.name == "hb_best" and best.loss == "mse" and best.profile == "smoke"
    assert best.model == CAESpec.from_dict(result.best_trial["spec"])
    assert best.learning_rate == pytest.approx(result.best_trial["learning_rate"])
    trained = training.run(best.with_overrides(epochs=1), data=tiny_data, cache_dir=tmp_path, verbose=0)
    assert spec_of(trained.model) == best.model and trained.model.get_layer("encoder").output_shape[1:] == tuple(
        result.best_trial["latent_shape"]
    )
    assert math.isfinite(trained.test_metrics["keras_loss"])
    stored = json.loads((result.path / "results.json").read_text())
    assert stored["best_config"] == best.to_dict() and len(stored["trials"]) == 3


def test_interrupted_search_resumes_without_rerunning_finished_trials(tiny_data, tmp_path, monkeypatch):
    calls = []
    original_fit = CAEHyperModel.fit

    def fit(self, hp, model, *args, **kwargs):
        calls.append(dict(hp.values))
        if len(calls) == 2 and interrupt:
            raise KeyboardInterrupt("simulated interruption during the second trial")
        return original_fit(self, hp, model, *args, **kwargs)

    monkeypatch.setattr(CAEHyperModel, "fit", fit)
    kwargs = dict(kind="random", profile="smoke", data=tiny_data, cache_dir=tmp_path)
    interrupt = True
    with pytest.raises(KeyboardInterrupt):
        search("resume", max_trials=2, **kwargs)
    first, interrupted = calls
    interrupt = False

    calls.clear()
    again = search("resume", max_trials=2, **kwargs)
    assert calls == [interrupted]  # only the interrupted trial ran again, with its own values
    assert again.trials_run_here == ["1"]
    assert [t["status"] for t in again.trials] == ["COMPLETED", "COMPLETED"]
    assert again.trials[0]["hyperparameters"] == first

    calls.clear()
    more = search("resume", max_trials=3, **kwargs)  # a larger budget extends the same search
    assert len(calls) == 1 and more.trials_run_here == ["2"] and more.path == again.path
    assert [t["trial_id"] for t in more.trials] == ["0", "1", "2"]
    assert more.trials[:2] == again.trials

    calls.clear()
    loaded = search("resume", max_trials=3, **kwargs)
    assert calls == [] and loaded.trials == more.trials and loaded.best == more.best

    fresh = search("resume", max_trials=1, overwrite=True, **kwargs)
    assert len(calls) == 1 and [t["trial_id"] for t in fresh.trials] == ["0"]


def test_search_rejects_bad_arguments(tiny_data, monkeypatch):
    with pytest.raises(ValueError, match="kind"):
        search("x", kind="grid", data=tiny_data)
    with pytest.raises(ValueError, match="name"):
        search("a b", data=tiny_data)
    with pytest.raises(ValueError, match="smallest latent"):
        search("x", latent_budget=100, profile="smoke", data=tiny_data)
    with pytest.raises(ValueError, match="loss"):
        CAEHyperModel(loss="hinge")
    monkeypatch.setenv("KERASTUNER_ORACLE_IP", "127.0.0.1")
    with pytest.raises(ValueError, match="KERASTUNER_ORACLE_PORT and KERASTUNER_TUNER_ID"):
        tuning.distributed_role()
    monkeypatch.setenv("KERASTUNER_ORACLE_PORT", "8000")
    monkeypatch.setenv("KERASTUNER_TUNER_ID", "chief")
    assert tuning.distributed_role() == "chief"
    monkeypatch.setenv("KERASTUNER_TUNER_ID", "tuner1")
    assert tuning.distributed_role() == "worker"


def test_bayesian_search(tiny_data, tmp_path):
    try:
        import sklearn  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="scikit-learn"):
            search("bo", kind="bayesian", profile="smoke", data=tiny_data, cache_dir=tmp_path)
        assert not (tmp_path / "tuner").exists()  # refused before anything was written
        return
    result = search("bo", kind="bayesian", profile="smoke", data=tiny_data, cache_dir=tmp_path, max_trials=2)
    assert [t["status"] for t in result.trials] == ["COMPLETED", "COMPLETED"]
    assert all(t["latent_size"] <= 1024 for t in result.trials)


def test_best_per_latent_keeps_the_lowest_validation_mse():
    rows = [
        dict(trial_id="0", status="COMPLETED", latent_size=1024, val_mse=0.010, params=5000),
        dict(trial_id="1", status="COMPLETED", latent_size=512, val_mse=0.020, params=4000),
        dict(trial_id="2", status="COMPLETED", latent_size=1024, val_mse=0.008, params=9000),
        dict(trial_id="3", status="FAILED", latent_size=256, val_mse=None, params=100),
        dict(trial_id="4", status="COMPLETED", latent_size=512, val_mse=0.020, params=3000),
        dict(trial_id="5", status="COMPLETED", latent_size=768, val_mse=float("nan"), params=10),
    ]
    assert [r["trial_id"] for r in best_per_latent(rows)] == ["4", "2"]  # tie at 512: smaller model
    assert best_per_latent([]) == []


# --------------------------------------------------------------------------- subprocesses


def _subprocess_env(**extra):
    env = dict(os.environ)
    for var in ("KERASTUNER_TUNER_ID", "KERASTUNER_ORACLE_IP", "KERASTUNER_ORACLE_PORT"):
        env.pop(var, None)
    env.update(
        TF_CPP_MIN_LOG_LEVEL="2",
        CUDA_VISIBLE_DEVICES="",
        TF_NUM_INTRAOP_THREADS="1",
        TF_NUM_INTEROP_THREADS="1",
        PYTHONPATH=os.pathsep.join(filter(None, [str(HERE.parent), env.get("PYTHONPATH")])),
    )
    env.update(extra)
    return env


def _wait_all(procs, logs, timeout):
    """Wait for every process; on timeout kill the ones still running and fail with their logs."""
    deadline = time.monotonic() + timeout
    try:
        for proc in procs.values():
            proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        pytest.fail(f"subprocesses did not finish within {timeout} s:\n" + _tails(logs))
    for name, proc in procs.items():
        assert proc.returncode == 0, f"{name} exited with {proc.returncode}:\n" + _tails(logs)


def _tails(logs):
    return "\n".join(f"--- {name}\n{Path(path).read_text()[-3000:]}" for name, path in logs.items())


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_distributed_search_on_loopback(tiny_data, tmp_path, spies):
    cache = tmp_path / "cache"
    port = _free_port()
    procs, logs, outs = {}, {}, {}
    for tuner_id in ("chief", "tuner0", "tuner1"):
        outs[tuner_id] = tmp_path / f"{tuner_id}.json"
        logs[tuner_id] = tmp_path / f"{tuner_id}.log"
        env = _subprocess_env(
            KERASTUNER_TUNER_ID=tuner_id, KERASTUNER_ORACLE_IP="127.0.0.1", KERASTUNER_ORACLE_PORT=str(port)
        )
        with open(logs[tuner_id], "w") as log:
            procs[tuner_id] = subprocess.Popen(
                [sys.executable, str(HELPER), "search", str(cache), str(outs[tuner_id]), "4"],
                env=env, stdout=log, stderr=subprocess.STDOUT, cwd=str(HERE.parent),
            )
    _wait_all(procs, logs, SUBPROCESS_TIMEOUT)
    seen = {k: json.loads(v.read_text()) for k, v in outs.items()}

    chief, w0, w1 = seen["chief"], seen["tuner0"], seen["tuner1"]
    assert (chief["role"], w0["role"], w1["role"]) == ("chief", "worker", "worker")
    assert chief["path"] == w0["path"] == w1["path"]
    ids = [t["trial_id"] for t in chief["trials"]]
    assert ids == ["0", "1", "2", "3"]
    assert all(t["status"] == "COMPLETED" and math.isfinite(t["val_mse"]) for t in chief["trials"])
    assert len({json.dumps(t["hyperparameters"], sort_keys=True) for t in chief["trials"]}) == 4
    # every trial was trained exactly once, by a worker; the chief trained none
    assert chief["trials_run_here"] == []
    assert sorted(w0["trials_run_here"] + w1["trials_run_here"]) == ids
    assert w0["trials_run_here"] and w1["trials_run_here"]

    # Afterwards the same call without the KERASTUNER_* variables reloads, trains nothing.
    built, fitted = spies
    local = search("dist", kind="random", profile="smoke", data=tiny_data, cache_dir=cache, max_trials=4)
    assert fitted == [] and local.role == "local" and str(local.path) == chief["path"]
    assert [t["trial_id"] for t in local.trials] == ids
    assert [t["val_mse"] for t in local.trials] == pytest.approx([t["val_mse"] for t in chief["trials"]])


def test_mirrored_strategy_on_two_logical_cpus(tmp_path):
    out, log = tmp_path / "mirrored.json", tmp_path / "mirrored.log"
    with open(log, "w") as f:
        proc = subprocess.Popen(
            [sys.executable, str(HELPER), "mirrored", str(tmp_path / "cache"), str(out)],
            env=_subprocess_env(TF_NUM_INTRAOP_THREADS="2"), stdout=f, stderr=subprocess.STDOUT, cwd=str(HERE.parent),
        )
    _wait_all({"mirrored": proc}, {"mirrored": log}, SUBPROCESS_TIMEOUT)
    seen = json.loads(out.read_text())
    assert seen["logical_cpus"] == 2 and seen["replicas"] == 2
    assert seen["trained"] and seen["epochs"] == 1 and seen["finite"]
    assert seen["variable_type"] == "MirroredVariable" and len(seen["variable_devices"]) == 2
    assert seen["search_status"] == ["COMPLETED"] and math.isfinite(seen["search_val_mse"][0])
    assert seen["search_strategy"] == "MirroredStrategy"


def test_trials_train_on_the_profiles_tuner_subset(tiny_data, tmp_path, monkeypatch):
    import dataclasses

    from cae_lib import profiles

    prof = dataclasses.replace(profiles.PROFILES["smoke"], tuner_train_per_class=20)
    seen = []
    original = CAEHyperModel.fit

    def fit(self, hp, model, x, *args, **kwargs):
        seen.append((len(x), len(kwargs["validation_data"][0])))
        return original(self, hp, model, x, *args, **kwargs)

    monkeypatch.setattr(CAEHyperModel, "fit", fit)
    search("sub", kind="random", profile=prof, data=tiny_data, cache_dir=tmp_path, max_trials=1)
    assert seen == [(200, 100)]  # 20 training images per class; the whole (smoke) validation part


# --------------------------------------------------------------------------- keras-tuner tables


def test_search_space_rows_of_a_hand_made_space():
    kt = pytest.importorskip("keras_tuner")
    hp = kt.HyperParameters()
    hp.Choice("pooling", ["max", "none"], default="max")
    with hp.conditional_scope("pooling", ["max"]):
        hp.Choice("channels", [4, 8], default=8)
    hp.Float("lr", 1e-4, 1e-2, sampling="log", default=1e-3)
    hp.Int("units", 2, 10, step=2, default=4)
    hp.Boolean("flag", default=True)
    hp.Fixed("size", 32)
    rows = tuning.search_space_rows(hp)
    assert rows == [
        {"hyperparameter": "pooling", "choices": "max, none", "default": "max", "condition": ""},
        {"hyperparameter": "channels", "choices": "4, 8", "default": 8, "condition": "pooling in max"},
        {"hyperparameter": "lr", "choices": "0.0001 to 0.01 (log)", "default": 1e-3, "condition": ""},
        {"hyperparameter": "units", "choices": "2 to 10 (step 2)", "default": 4, "condition": ""},
        {"hyperparameter": "flag", "choices": "True, False", "default": True, "condition": ""},
        {"hyperparameter": "size", "choices": "32", "default": 32, "condition": ""},
    ]


def test_search_space_rows_of_the_cae_space_respect_the_budget():
    kt = pytest.importorskip("keras_tuner")
    tuning = pytest.importorskip("cae_lib.tuning")
    hp = kt.HyperParameters()
    tuning.CAEHyperModel(latent_budget=1024).spec_for(hp)
    rows = {r["hyperparameter"]: r for r in tuning.search_space_rows(hp)}
    # with pooling the latent is 8x8xC, so C <= 1024 / 64 = 16; without, 32x32xC, so C = 1
    pooled = [int(v) for v in rows["latent_channels"]["choices"].split(", ")]
    assert pooled and all(8 * 8 * c <= 1024 for c in pooled) and max(pooled) == 16
    assert rows["latent_channels"]["condition"] == "pooling in max, avg, stride"
    assert rows["latent_channels_unpooled"]["choices"] == "1"
    assert rows["pooling"]["default"] == "max"  # the given network is the default


def test_search_space_rows_needs_a_declared_space():
    with pytest.raises(ValueError, match="declared space"):
        tuning.search_space_rows(SimpleNamespace(space=[]))
    with pytest.raises(ValueError, match="declared space"):
        tuning.search_space_rows(object())


def _trial(tid, val_mse, status="COMPLETED", pooling="max", latent=(8, 8, 16), budget=None):
    return {
        "trial_id": tid,
        "status": status,
        "hyperparameters": {} if budget is None else {"tuner/epochs": budget},
        "spec": {"filters": [8, 12, latent[2]], "convs_per_stage": 1, "kernel_size": 3, "pooling": pooling},
        "latent_shape": list(latent),
        "latent_size": int(np.prod(latent)),
        "params": 4911,
        "learning_rate": 1e-3,
        "epochs_run": 2,
        "val_mse": val_mse,
    }


def test_trial_rows_sorted_best_first_unscored_last():
    trials = [
        _trial("0", 0.02, budget=4),
        _trial("1", None, status="FAILED"),
        _trial("2", 0.01, latent=(8, 8, 4), budget=12),
        _trial("3", float("nan"), status="INVALID"),
        _trial("4", 0.015),
    ]
    rows = tuning.trial_rows(trials)
    assert [r["trial"] for r in rows] == ["2", "4", "0", "1", "3"]
    assert rows[0]["latent_shape"] == "8×8×4" and rows[0]["latent_size"] == 256
    assert rows[0]["epoch_budget"] == 12 and rows[1]["epoch_budget"] is None
    assert rows[0]["filters"] == "8, 12, 4"
    assert rows[-1]["val_mse"] is None and rows[-2]["val_mse"] is None
    assert all(set(tuning.TRIAL_COLUMNS) == set(r) for r in rows)
    text = markdown_table(rows, tuning.TRIAL_COLUMNS, tuning.TRIAL_FLOATFMT, tuning.TRIAL_HEADERS)
    assert "| 2 | COMPLETED |" in text.splitlines()[2]
    assert "0.01000" in text.splitlines()[2]


def test_trial_rows_bad_input():
    with pytest.raises(ValueError, match="val_mse"):
        tuning.trial_rows([{k: v for k, v in _trial("0", 0.1).items() if k != "val_mse"}])
    with pytest.raises(ValueError, match="dict"):
        tuning.trial_rows(["trial"])


# --------------------------------------------------------------------------- a damaged or read-only search


def _small_search(tiny_data, cache, max_trials=2):
    return search("small", kind="random", profile="smoke", data=tiny_data, cache_dir=cache, max_trials=max_trials)


def test_a_damaged_oracle_file_is_named_with_the_way_out(tiny_data, tmp_path):
    from cae_lib.cache import CacheError

    first = _small_search(tiny_data, tmp_path)
    oracle = first.path / "oracle.json"
    oracle.write_text(oracle.read_text()[:10])
    with pytest.raises(CacheError, match=r"oracle\.json is damaged.*--overwrite"):
        _small_search(tiny_data, tmp_path, max_trials=3)


def test_a_damaged_trial_is_named_and_moving_it_aside_keeps_the_others(tiny_data, tmp_path):
    from cae_lib.cache import CacheError

    first = _small_search(tiny_data, tmp_path)
    trial = sorted(first.path.glob("trial_*/trial.json"))[-1]
    trial.write_text("{")
    with pytest.raises(CacheError, match="trial.json is damaged.*move the damaged trial folder"):
        _small_search(tiny_data, tmp_path, max_trials=3)
    trial.parent.rename(tmp_path / "moved-aside")
    again = _small_search(tiny_data, tmp_path, max_trials=3)
    kept = {t["trial_id"] for t in first.trials} - {trial.parent.name.removeprefix("trial_")}
    assert kept <= {t["trial_id"] for t in again.trials}
    assert len(again.completed) >= len(kept)


def test_a_finished_search_loads_from_a_read_only_cache(tiny_data, tmp_path):
    import shutil as sh

    first = _small_search(tiny_data, tmp_path / "cache")
    view = tmp_path / "view"
    if os.geteuid() == 0:
        view.mkdir()
        mounted = subprocess.run(["mount", "--bind", str(tmp_path / "cache"), str(view)], capture_output=True)
        if mounted.returncode or subprocess.run(["mount", "-o", "remount,bind,ro", str(view)],
                                                capture_output=True).returncode:
            subprocess.run(["umount", str(view)], capture_output=True)
            pytest.skip("running as root without permission to bind-mount read-only")
    else:
        sh.copytree(tmp_path / "cache", view)
        for p in [view, *view.rglob("*")]:
            p.chmod(0o555 if p.is_dir() else 0o444)
    try:
        again = _small_search(tiny_data, view)
        assert again.trials == first.trials and again.best == first.best and again.tuner is None
    finally:
        if os.geteuid() == 0:
            subprocess.run(["umount", str(view)], capture_output=True)
        else:
            for p in [view, *view.rglob("*")]:
                p.chmod(0o755 if p.is_dir() else 0o644)


def test_describe_spec_and_trial_models_scored_on_the_test_part(tiny_data, tmp_path):
    from cae_lib.tasks import task_data

    text = tuning.describe_spec(CAESpec(filters=(8, 16), pooling="stride", convs_per_stage=2, residual=True,
                                        latent_activation="linear"), 2e-3)
    assert "stride-2 convolutions, residual stages, a linear bottleneck" in text and "0.002" in text
    result = _small_search(tiny_data, tmp_path)
    rows = tuning.trial_test_rows(result, task_data("reconstruct", "smoke", data=tiny_data))
    assert [r["latent_size"] for r in rows] == [t["latent_size"] for t in result.best_per_latent()]
    assert all(np.isfinite(r["psnr_global_db"]) for r in rows)
    (result.path / f"trial_{result.best_per_latent()[0]['trial_id']}" / "checkpoint.weights.h5").unlink()
    from cae_lib.cache import CacheError

    with pytest.raises(CacheError, match="cannot read the weights of trial"):
        tuning.trial_model(result, result.best_per_latent()[0])


@pytest.mark.parametrize("values, reason", [
    ({"latent_channels": 64}, "outside the search space"),
    ({"kernel_size": 4}, "outside the search space"),
    ({"learning_rate": 5.0}, "outside the search space"),
    ({"learning_rate": float("nan")}, "outside the search space"),
    ({"dropout": 0.5}, "not a hyperparameter of this search"),
    ("not a dict", "must be a mapping"),
])
def test_a_reported_trial_outside_the_space_is_rejected(values, reason):
    assert reason in CAEHyperModel(latent_budget=1024).rejects(values)


def test_a_trial_inside_the_space_and_hyperbands_bookkeeping_are_accepted():
    hypermodel = CAEHyperModel(latent_budget=1024)
    assert hypermodel.rejects({"pooling": "max", "latent_channels": 16, "tuner/epochs": 2, "tuner/bracket": 1}) is None


def test_a_trial_over_the_budget_is_rejected():
    values = {"pooling": "max", "latent_channels": 16}  # 8x8x16 = 1,024 values
    assert CAEHyperModel(latent_budget=1024).rejects(values) is None
    assert CAEHyperModel(latent_budget=512).rejects(values) is not None


@pytest.mark.parametrize("address, refused", [("0.0.0.0", True), ("10.0.0.1", True), ("127.0.0.1", False),
                                              ("localhost", False), ("::1", False)])
def test_the_chief_serves_the_oracle_on_loopback_unless_the_network_is_declared_trusted(monkeypatch, address,
                                                                                        refused):
    from cae_lib.tuning.search import distributed_role

    monkeypatch.setenv("KERASTUNER_TUNER_ID", "chief")
    monkeypatch.setenv("KERASTUNER_ORACLE_IP", address)
    monkeypatch.setenv("KERASTUNER_ORACLE_PORT", "8000")
    monkeypatch.delenv("CAE_TUNER_TRUST_NETWORK", raising=False)
    if refused:
        with pytest.raises(ValueError, match="no authentication"):
            distributed_role()
        monkeypatch.setenv("CAE_TUNER_TRUST_NETWORK", "1")
    assert distributed_role() == "chief"
    monkeypatch.setenv("KERASTUNER_TUNER_ID", "tuner0")  # a worker may dial any address
    monkeypatch.delenv("CAE_TUNER_TRUST_NETWORK", raising=False)
    assert distributed_role() == "worker"


def test_a_hand_edited_best_trial_of_a_finished_search_is_refused(tiny_data, tmp_path):
    first = _small_search(tiny_data, tmp_path / "cache")
    results = first.path / "results.json"
    stored = json.loads(results.read_text())
    stored["best_trial"]["hyperparameters"]["latent_channels"] = 64  # an 8x8x64 latent: 4,096 values
    results.write_text(json.dumps(stored))
    with pytest.raises(cache.CacheError, match="does not match its manifest.*results.json"):
        _small_search(tiny_data, tmp_path / "cache")
    # with the manifest recomputed to match, the trial itself is still checked against the space
    manifest = cache.read_json(first.path / cache.MANIFEST)
    cache.write_manifest(first.path, manifest["files"], key=manifest["key"])
    with pytest.raises(cache.CacheError, match="no trial of this search"):
        _small_search(tiny_data, tmp_path / "cache")


def test_a_hand_edited_score_of_a_finished_search_is_refused(tiny_data, tmp_path):
    first = _small_search(tiny_data, tmp_path / "cache")
    results = first.path / "results.json"
    stored = json.loads(results.read_text())
    worst = max(stored["trials"], key=lambda t: t["val_mse"])
    worst["val_mse"] = 1e-6  # inside the space, only the score forged: the worst trial made the best
    stored["best_trial"] = worst
    results.write_text(json.dumps(stored))
    with pytest.raises(cache.CacheError, match=r"does not match its manifest.*altered"):
        _small_search(tiny_data, tmp_path / "cache")
    # an unreadable (truncated) record is rebuilt from keras-tuner's own state, which the manifest vouches for
    results.write_text(results.read_text()[:-20])
    again = _small_search(tiny_data, tmp_path / "cache")
    assert again.trials == first.trials and again.best == first.best


def test_a_search_stored_without_a_manifest_is_reopened_and_gets_one(tiny_data, tmp_path, spies):
    first = _small_search(tiny_data, tmp_path / "cache")
    (first.path / cache.MANIFEST).unlink()
    fits = len(spies[1])
    again = _small_search(tiny_data, tmp_path / "cache")
    assert again.trials == first.trials and len(spies[1]) == fits  # keras-tuner reloaded it, nothing trained
    assert sorted(cache.read_json(first.path / cache.MANIFEST)["files"]) == [
        "oracle.json", "results.json", "search.json", "trial_0/trial.json", "trial_1/trial.json"]


# --------------------------------------------------------------------------- a failing disk


def _failing_fit(monkeypatch, calls, error, on_call=2):
    original_fit = CAEHyperModel.fit

    def fit(self, hp, model, *args, **kwargs):
        calls.append(dict(hp.values))
        if len(calls) == on_call and error is not None:
            raise error
        return original_fit(self, hp, model, *args, **kwargs)

    monkeypatch.setattr(CAEHyperModel, "fit", fit)


@pytest.mark.parametrize("error", [
    OSError(28, "No space left on device"),
    # h5py's and TensorFlow's wording for the same, in exceptions that are not OSError
    RuntimeError("Unable to synchronously write data (file write failed: errno = 28, error message = "
                 "'No space left on device')"),
], ids=["oserror", "h5py-runtimeerror"])
def test_a_full_disk_in_a_trial_stops_the_search_in_one_line_and_the_rerun_resumes(tiny_data, tmp_path,
                                                                                   monkeypatch, error):
    calls = []
    _failing_fit(monkeypatch, calls, error)
    with pytest.raises(cache.CacheError, match=r"stopped: .*No space left on device.*rerun the same command") as info:
        _small_search(tiny_data, tmp_path, max_trials=3)
    assert "\n" not in str(info.value)
    first, interrupted = calls
    path = next((tmp_path / "tuner").iterdir())
    for state in path.glob("**/*.json"):
        json.loads(state.read_text())  # nothing half-written
    assert not list(path.glob("**/.*tmp-*"))
    calls.clear()
    monkeypatch.undo()
    _failing_fit(monkeypatch, calls, None)
    again = _small_search(tiny_data, tmp_path, max_trials=3)
    assert calls[0] == interrupted and len(calls) == 2  # the interrupted trial again, then the third
    assert [t["status"] for t in again.trials] == ["COMPLETED"] * 3 and again.trials[0]["hyperparameters"] == first


def test_a_trial_does_not_start_on_a_nearly_full_disk(tiny_data, tmp_path, monkeypatch, spies):
    real = search_module.shutil.disk_usage
    monkeypatch.setattr(search_module.shutil, "disk_usage",
                        lambda p: real(p)._replace(free=search_module.MIN_FREE_BYTES // 2))
    with pytest.raises(cache.CacheError, match="only 32 MiB are free"):
        _small_search(tiny_data, tmp_path)
    assert spies[1] == []


def test_keras_tuner_state_is_replaced_whole_or_not_at_all(tmp_path, monkeypatch):
    from keras_tuner.src import utils as kt_utils

    state = tmp_path / "oracle.json"
    state.write_text('{"old": true}')
    real_write = Path.write_bytes

    def half_then_full(self, data):
        real_write(self, data[: len(data) // 2])
        raise OSError(28, "No space left on device")

    with search_module._atomic_state_writes():
        monkeypatch.setattr(Path, "write_bytes", half_then_full)
        with pytest.raises(cache.CacheError, match="disk is full"):
            kt_utils.save_json(str(state), {"new": list(range(100))})
        monkeypatch.undo()
    assert json.loads(state.read_text()) == {"old": True} and sorted(p.name for p in tmp_path.iterdir()) == [
        "oracle.json"]
    assert kt_utils.save_json is not search_module._atomic_state_writes  # put back: a plain function again
    assert kt_utils.save_json.__module__ == "keras_tuner.src.utils"


def test_storage_failure_reads_exception_chains():
    try:
        try:
            raise OSError(5, "Input/output error")
        except OSError as inner:
            raise ValueError("saving failed") from inner
    except ValueError as outer:
        assert search_module.storage_failure(outer) == "Input/output error"
    assert search_module.storage_failure(KeyError("x")) is None
