"""Tests for cae_lib.chapter2: comparison rows and the error-against-latent-size figure."""

import math
from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure

from cae_lib import chapter2 as C
from cae_lib.experiments import experiment, names
from cae_lib.models import CAESpec
from cae_lib.plots import markdown_table

METRICS = {"mse": 0.004, "psnr_global_db": 23.98, "psnr_mean_db": 24.5, "ssim": 0.71, "mae": 0.05}


def _fake(spec=None, metrics=None, seconds=30.0, history=None):
    return SimpleNamespace(
        config=SimpleNamespace(model=spec or CAESpec()),
        test_metrics=dict(METRICS if metrics is None else metrics),
        train_seconds=seconds,
        history=history if history is not None else {"loss": [0.03, 0.02, 0.018], "val_loss": [0.03, 0.019, 0.02]},
    )


@pytest.fixture(autouse=True)
def no_open_figures():
    plt.close("all")
    yield
    assert plt.get_fignums() == []


# --------------------------------------------------------------------------- rows

# Latent sizes by hand: the given net pools twice (32 -> 16 -> 8) and ends with 16
# filters; without pooling the 32x32 grid stays; a third pooling stage gives 4x4.
CHAPTER_LATENTS = {
    "given_mse": ("8×8×16", 8 * 8 * 16),
    "avg_pool": ("8×8×16", 8 * 8 * 16),
    "no_pool": ("32×32×16", 32 * 32 * 16),
    "no_pool_1024": ("32×32×1", 32 * 32 * 1),
    "wide": ("8×8×16", 8 * 8 * 16),
    "deep": ("8×8×16", 8 * 8 * 16),
    "small_latent": ("4×4×16", 4 * 4 * 16),
}


def test_chapter_models_latent_sizes_and_compression_by_hand():
    assert set(names(2)) | {"given_mse"} == set(CHAPTER_LATENTS)
    results = {n: _fake(experiment(n, profile="smoke").model) for n in CHAPTER_LATENTS}
    rows = C.comparison_rows(results)
    assert [r["model"] for r in rows] == list(CHAPTER_LATENTS)  # order kept
    for row in rows:
        shape, size = CHAPTER_LATENTS[row["model"]]
        assert row["latent_shape"] == shape
        assert row["latent_size"] == size
        assert row["compression"] == pytest.approx(size / (32 * 32 * 3))
    by_name = {r["model"]: r for r in rows}
    assert by_name["no_pool"]["compression"] == pytest.approx(16 / 3)  # 16384 / 3072: larger than the input
    assert by_name["small_latent"]["compression"] == pytest.approx(1 / 12)


def test_given_params_by_hand():
    # K*K*C_in*C_out + C_out per Conv2D: 3->8, 8->12, 12->16, 16->12, 12->3
    by_hand = (9 * 3 * 8 + 8) + (9 * 8 * 12 + 12) + (9 * 12 * 16 + 16) + (9 * 16 * 12 + 12) + (9 * 12 * 3 + 3)
    assert C.comparison_row("given", _fake())["params"] == by_hand == 4911


def test_params_match_keras_count():
    from cae_lib.models import build_cae

    for n in ("no_pool_1024", "wide", "deep", "small_latent"):
        spec = experiment(n, profile="smoke").model
        assert C.comparison_row(n, _fake(spec))["params"] == build_cae(spec).count_params()


def test_metrics_time_and_epochs_copied():
    row = C.comparison_row("given", _fake(seconds=12.5))
    for key in C.METRIC_KEYS:
        assert row[key] == METRICS[key]
    assert row["train_seconds"] == 12.5
    assert row["epochs"] == 3
    assert row["best_epoch"] == 2  # val_loss 0.03, 0.019, 0.02: lowest at epoch 2
    no_val = C.comparison_row("given", _fake(history={"loss": [0.1, 0.05]}))
    assert no_val["epochs"] == 2 and no_val["best_epoch"] is None


def test_rows_render_with_the_table_settings():
    rows = C.comparison_rows({"given_mse": _fake(), "no_pool": _fake(CAESpec(pooling="none"))})
    assert set(C.COLUMNS) <= set(rows[0])
    assert set(C.COLUMNS) <= set(C.HEADERS) and set(C.FLOATFMT) <= set(rows[0])
    text = markdown_table(rows, C.COLUMNS, C.FLOATFMT, C.HEADERS)
    lines = text.splitlines()
    assert len(lines) == 4
    assert "test PSNR, global (dB)" in lines[0]
    cells = [c.strip() for c in lines[3].strip("|").split("|")]
    assert cells[C.COLUMNS.index("latent_size")] == "16384"
    assert cells[C.COLUMNS.index("compression")] == "5.333"
    assert cells[C.COLUMNS.index("psnr_global_db")] == "23.98"


@pytest.mark.parametrize(
    "result, match",
    [
        (object(), "RunResult"),
        (_fake(spec=SimpleNamespace(filters=(8,))), "CAESpec"),
        (_fake(metrics={"mse": 0.1, "psnr_global_db": 10.0, "ssim": 0.5}), "psnr_mean_db"),
        (_fake(metrics={**METRICS, "ssim": float("nan")}), "ssim"),
        (_fake(metrics={**METRICS, "mse": True}), "mse"),
        (_fake(seconds=None), "train_seconds"),
        (_fake(history={"val_loss": [0.1]}), "loss"),
    ],
)
def test_comparison_row_rejects_unusable_runs(result, match):
    with pytest.raises(ValueError, match=match):
        C.comparison_row("x", result)


@pytest.mark.parametrize("results", [{}, [("a", _fake())], None])
def test_comparison_rows_needs_a_dict(results):
    with pytest.raises(ValueError, match="non-empty dict"):
        C.comparison_rows(results)


@pytest.mark.slow
def test_row_of_a_real_run_matches_its_predictions(tmp_path):
    """Train a tiny model for one epoch and check the row against numbers computed here."""
    from cae_lib.data import CLASS_NAMES, CifarData
    from cae_lib.runs import RunConfig, run, task_data

    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(10, dtype=np.int64), 100)
    small = rng.integers(0, 256, size=(len(labels), 4, 4, 3), dtype=np.uint8)
    images = np.repeat(np.repeat(small, 8, axis=1), 8, axis=2)  # blocky 32x32 images
    data = CifarData(images=images, labels=labels, class_names=CLASS_NAMES, source="synthetic blocks")
    spec = CAESpec(filters=(4, 6))
    cfg = RunConfig(name="c2", model=spec, loss="mse", profile="smoke", epochs=1, batch_size=32)
    result = run(cfg, data=data, cache_dir=tmp_path, verbose=0)
    row = C.comparison_row("c2", result)

    x_test = task_data("reconstruct", "smoke", data=data).x_test
    pred = result.model.predict(x_test, verbose=0).astype(np.float64)
    mse = float(np.mean((pred - x_test) ** 2))
    assert row["mse"] == pytest.approx(mse, rel=1e-5)
    assert row["psnr_global_db"] == pytest.approx(10 * math.log10(1 / mse), abs=1e-4)
    assert row["params"] == result.model.count_params()
    assert row["latent_size"] == 16 * 16 * 6
    assert row["epochs"] == 1 and row["best_epoch"] == 1
    assert row["train_seconds"] > 0


# --------------------------------------------------------------------------- figure

ROWS = [
    {"model": "given", "latent_size": 1024, "psnr_global_db": 24.0},
    {"model": "no_pool", "latent_size": 16384, "psnr_global_db": 35.0},
    {"model": "small", "latent_size": 256, "psnr_global_db": 20.0},
]


def _points(ax):
    """(x, y) of every scatter point on the axes, in drawing order."""
    return [tuple(p) for coll in ax.collections for p in coll.get_offsets()]


def test_latent_figure_marks_each_model():
    fig = C.latent_figure(ROWS, "psnr_global_db", ylabel="PSNR (dB)")
    assert isinstance(fig, Figure) and len(fig.axes) == 1
    ax = fig.axes[0]
    assert _points(ax) == [(1024.0, 24.0), (16384.0, 35.0), (256.0, 20.0)]
    assert ax.get_xscale() == "log" and ax.get_ylabel() == "PSNR (dB)"
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[:3] == ["given", "no_pool", "small"]
    assert legend[3] == "input size (3072 values)"
    vlines = [line for line in ax.lines if line.get_xdata()[0] == 3072]
    assert len(vlines) == 1
    colors = {tuple(coll.get_facecolor()[0]) for coll in ax.collections}
    assert len(colors) == 3  # one colour per model
    # ticks read as plain numbers, not powers of two
    assert ax.xaxis.get_major_formatter()(1024, 0) == "1024"


def test_latent_figure_single_series_background_and_line():
    trials = [{"latent_size": s, "val_loss": v} for s, v in [(256, 0.02), (256, 0.03), (1024, 0.01), (512, 0.015)]]
    best = [{"latent_size": 1024, "val_loss": 0.01}, {"latent_size": 256, "val_loss": 0.02}]
    fig = C.latent_figure(best, "val_loss", label=None, background=trials, connect=True, input_values=None,
                          series_label="best per latent size")
    ax = fig.axes[0]
    assert len(ax.collections) == 2
    assert len(ax.collections[0].get_offsets()) == 4  # the background trials, drawn first
    assert [tuple(p) for p in ax.collections[1].get_offsets()] == [(1024.0, 0.01), (256.0, 0.02)]
    (line,) = ax.lines  # the connecting line only: no input-size line
    np.testing.assert_array_equal(line.get_xdata(), [256, 1024])  # sorted by latent size
    np.testing.assert_array_equal(line.get_ydata(), [0.02, 0.01])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["all trials", "best per latent size"]


def test_latent_figure_labels_every_latent_size_shown():
    rows = [{"latent_size": s, "val_loss": 0.01} for s in (256, 512, 768, 1024)]
    ax = C.latent_figure(rows, "val_loss", label=None, input_values=None).axes[0]
    assert list(ax.get_xticks()) == [256, 512, 768, 1024]
    formatter = ax.xaxis.get_major_formatter()
    assert [formatter(t, 0) for t in ax.get_xticks()] == ["256", "512", "768", "1024"]


def test_latent_figure_can_be_saved(tmp_path):
    C.latent_figure(ROWS, "psnr_global_db").savefig(tmp_path / "f.png")
    assert (tmp_path / "f.png").stat().st_size > 1000


@pytest.mark.parametrize(
    "rows, kwargs, match",
    [
        ([], {}, "empty"),
        ([{"model": "a", "latent_size": 1024}], {}, "psnr_global_db"),
        ([{"latent_size": 1024, "psnr_global_db": 20.0}], {}, "model"),
        ([{"model": "a", "latent_size": 0, "psnr_global_db": 20.0}], {}, "positive"),
        ([{"model": "a", "latent_size": 1024, "psnr_global_db": float("inf")}], {}, "finite"),
        (["row"], {}, "dict"),
        (ROWS, {"background": [{"latent_size": 4}]}, "background"),
    ],
)
def test_latent_figure_bad_input(rows, kwargs, match):
    with pytest.raises(ValueError, match=match):
        C.latent_figure(rows, "psnr_global_db", **kwargs)


def test_import_does_not_load_keras():
    import subprocess
    import sys

    code = "import sys, cae_lib.chapter2; print('keras' in sys.modules, 'tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


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
    rows = C.search_space_rows(hp)
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
    rows = {r["hyperparameter"]: r for r in C.search_space_rows(hp)}
    # with pooling the latent is 8x8xC, so C <= 1024 / 64 = 16; without, 32x32xC, so C = 1
    pooled = [int(v) for v in rows["latent_channels"]["choices"].split(", ")]
    assert pooled and all(8 * 8 * c <= 1024 for c in pooled) and max(pooled) == 16
    assert rows["latent_channels"]["condition"] == "pooling in max, avg"
    assert rows["latent_channels_unpooled"]["choices"] == "1"
    assert rows["pooling"]["default"] == "max"  # the given network is the default


def test_search_space_rows_needs_a_declared_space():
    with pytest.raises(ValueError, match="declared space"):
        C.search_space_rows(SimpleNamespace(space=[]))
    with pytest.raises(ValueError, match="declared space"):
        C.search_space_rows(object())


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
    rows = C.trial_rows(trials)
    assert [r["trial"] for r in rows] == ["2", "4", "0", "1", "3"]
    assert rows[0]["latent_shape"] == "8×8×4" and rows[0]["latent_size"] == 256
    assert rows[0]["epoch_budget"] == 12 and rows[1]["epoch_budget"] is None
    assert rows[0]["filters"] == "8, 12, 4"
    assert rows[-1]["val_mse"] is None and rows[-2]["val_mse"] is None
    assert all(set(C.TRIAL_COLUMNS) == set(r) for r in rows)
    text = markdown_table(rows, C.TRIAL_COLUMNS, C.TRIAL_FLOATFMT, C.TRIAL_HEADERS)
    assert "| 2 | COMPLETED |" in text.splitlines()[2]
    assert "0.01000" in text.splitlines()[2]


def test_trial_rows_bad_input():
    with pytest.raises(ValueError, match="val_mse"):
        C.trial_rows([{k: v for k, v in _trial("0", 0.1).items() if k != "val_mse"}])
    with pytest.raises(ValueError, match="dict"):
        C.trial_rows(["trial"])
