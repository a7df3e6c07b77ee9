"""cae_lib.evaluation: one route from a prediction to its metrics, paired differences, comparison rows."""

import math
from types import SimpleNamespace

import numpy as np
import pytest
from _data import colorize_data as _colorize_data
from scipy import stats

from cae_lib import color, evaluation, metrics
from cae_lib.evaluation import ROW_METRICS, paired_difference, prediction_metrics, run_row
from cae_lib.experiments import experiment, names
from cae_lib.models import CAESpec
from cae_lib.tables import COMPARISON_COLUMNS, METRIC_FORMATS, METRIC_HEADERS, comparison_table
from cae_lib.tasks import Denoise

METRICS = {"mse": 0.004, "psnr_global_db": 23.98, "psnr_mean_db": 24.5, "ssim": 0.71, "mae": 0.05}


def _fake(spec=None, metrics=None, seconds=30.0, history=None):
    return SimpleNamespace(
        config=SimpleNamespace(model=spec or CAESpec()),
        test_metrics=dict(METRICS if metrics is None else metrics),
        train_seconds=seconds,
        history=history if history is not None else {"loss": [0.03, 0.02, 0.018], "val_loss": [0.03, 0.019, 0.02]},
    )


# --------------------------------------------------------------------------- paired differences


def test_paired_difference_matches_scipy():
    rng = np.random.default_rng(1)
    a = rng.normal(25.0, 3.0, 200)
    b = a - rng.normal(0.3, 1.0, 200)
    d = paired_difference(a, b)
    assert d["n"] == 200
    assert d["mean"] == pytest.approx(np.mean(a) - np.mean(b), abs=1e-12)
    assert d["std_error"] == pytest.approx(stats.sem(a - b), rel=1e-12)
    # the paired t statistic is mean / standard error
    assert d["mean"] / d["std_error"] == pytest.approx(stats.ttest_rel(a, b).statistic, rel=1e-10)
    assert d["share_greater"] == pytest.approx(np.count_nonzero(a > b) / 200)


def test_paired_difference_shares_hand_counted():
    d = paired_difference([1.0, 2.0, 3.0, 4.0], [0.0, 2.0, 5.0, 3.0])
    assert d["share_greater"] == 0.5 and d["share_equal"] == 0.25
    assert d["mean"] == pytest.approx((1 + 0 - 2 + 1) / 4)


def test_paired_difference_single_item_has_nan_error():
    d = paired_difference([2.0], [1.0])
    assert d["mean"] == 1.0 and np.isnan(d["std_error"])


@pytest.mark.parametrize(
    "a, b, match",
    [
        ([1.0, 2.0], [1.0], "same length"),
        ([[1.0]], [[1.0]], "1-D"),
        ([], [], "empty"),
        ([np.inf], [1.0], "finite"),
    ],
)
def test_paired_difference_bad_input(a, b, match):
    with pytest.raises(ValueError, match=match):
        paired_difference(a, b)


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
    "compressor_1024": ("8×8×16", 8 * 8 * 16),
    "compressor_256": ("4×4×16", 4 * 4 * 16),
    "compressor_skips": ("8×8×16", 8 * 8 * 16),
}


def test_chapter_models_latent_sizes_and_compression_by_hand():
    assert set(names(2)) | {"given_mse"} == set(CHAPTER_LATENTS)
    results = {n: _fake(experiment(n, profile="smoke").model) for n in CHAPTER_LATENTS}
    rows = [run_row(n, r) for n, r in results.items()]
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
    assert run_row("given", _fake())["params"] == by_hand == 4911


def test_params_match_keras_count():
    from cae_lib.models import build_cae

    for n in ("no_pool_1024", "wide", "deep", "small_latent"):
        spec = experiment(n, profile="smoke").model
        assert run_row(n, _fake(spec))["params"] == build_cae(spec).count_params()


def test_metrics_time_and_epochs_copied():
    row = run_row("given", _fake(seconds=12.5))
    for key in ROW_METRICS:
        assert row[key] == METRICS[key]
    assert row["train_seconds"] == 12.5
    assert row["epochs"] == 3
    assert row["best_epoch"] == 2  # val_loss 0.03, 0.019, 0.02: lowest at epoch 2
    no_val = run_row("given", _fake(history={"loss": [0.1, 0.05]}))
    assert no_val["epochs"] == 2 and no_val["best_epoch"] is None


def test_rows_render_with_the_table_settings():
    rows = [run_row(n, r) for n, r in {"given_mse": _fake(), "no_pool": _fake(CAESpec(pooling="none"))}.items()]
    assert set(COMPARISON_COLUMNS) <= set(rows[0])
    assert set(COMPARISON_COLUMNS) <= set(METRIC_HEADERS) and set(METRIC_FORMATS) & set(COMPARISON_COLUMNS) <= set(rows[0])
    text = comparison_table(rows)
    lines = text.splitlines()
    assert len(lines) == 4
    assert "test PSNR, global (dB)" in lines[0]
    cells = [c.strip() for c in lines[3].strip("|").split("|")]
    assert cells[COMPARISON_COLUMNS.index("latent_size")] == "16384"
    assert cells[COMPARISON_COLUMNS.index("compression")] == "5.333"
    assert cells[COMPARISON_COLUMNS.index("psnr_global_db")] == "23.98"


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
        run_row("x", result)


@pytest.mark.slow
def test_row_of_a_real_run_matches_its_predictions(tmp_path):
    """Train a tiny model for one epoch and check the row against numbers computed here."""
    from cae_lib.data import CLASS_NAMES, CifarData
    from cae_lib.tasks import task_data
    from cae_lib.training import RunConfig, run

    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(10, dtype=np.int64), 100)
    small = rng.integers(0, 256, size=(len(labels), 4, 4, 3), dtype=np.uint8)
    images = np.repeat(np.repeat(small, 8, axis=1), 8, axis=2)  # blocky 32x32 images
    data = CifarData(images=images, labels=labels, class_names=CLASS_NAMES, source="synthetic blocks")
    spec = CAESpec(filters=(4, 6))
    cfg = RunConfig(name="c2", model=spec, loss="mse", profile="smoke", epochs=1, batch_size=32)
    result = run(cfg, data=data, cache_dir=tmp_path, verbose=0)
    row = run_row("c2", result)

    x_test = task_data("reconstruct", "smoke", data=data).x_test
    pred = result.model.predict(x_test, verbose=0).astype(np.float64)
    mse = float(np.mean((pred - x_test) ** 2))
    assert row["mse"] == pytest.approx(mse, rel=1e-5)
    assert row["psnr_global_db"] == pytest.approx(10 * math.log10(1 / mse), abs=1e-4)
    assert row["params"] == result.model.count_params()
    assert row["latent_size"] == 16 * 16 * 6
    assert row["epochs"] == 1 and row["best_epoch"] == 1
    assert row["train_seconds"] > 0



# --------------------------------------------------------------------------- colorization scoring


def test_evaluate_matches_rgb_metrics_of_rebuilt_images():
    data = _colorize_data()
    pred = np.clip(data.y_test + 0.05, -1.0, 1.0)
    m = prediction_metrics(data, pred)
    rgb_true = color.lab_to_rgb(color.model_to_lab(data.x_test, data.y_test))
    rgb_pred = color.lab_to_rgb(color.model_to_lab(data.x_test, pred))
    diff = rgb_true.astype(np.float64) - rgb_pred
    assert m["mse"] == pytest.approx((diff**2).mean(), rel=1e-6)
    assert m["psnr_global_db"] == pytest.approx(10 * np.log10(1 / (diff**2).mean()), rel=1e-6)
    assert m["colourfulness_true"] == pytest.approx(metrics.colourfulness(rgb_true).mean(), rel=1e-9)
    perfect = prediction_metrics(data, data.y_test)
    assert perfect["mse"] == 0.0 and perfect["ab_mae"] == 0.0




def test_colorization_scores_follow_scikit_image_lab2rgb():
    """The chapter 3 route against an independent rebuild: scikit-image's lab2rgb and NumPy."""
    from skimage.color import lab2rgb

    data = _colorize_data()
    pred = np.clip(data.y_test * 0.7 + 0.02, -1.0, 1.0)
    m = prediction_metrics(data, pred)

    def rebuild(ab):
        lab = np.concatenate([data.x_test * 100.0, ab * 128.0], axis=-1).astype(np.float64)
        return np.clip(lab2rgb(lab), 0.0, 1.0)

    truth, guess = rebuild(data.y_test), rebuild(pred)
    mse = float(np.mean((truth - guess) ** 2))
    assert m["mse"] == pytest.approx(mse, rel=2e-2, abs=2e-6)  # OpenCV's float Lab vs skimage: within their gap
    assert m["ab_mae"] == pytest.approx(float(np.mean(np.abs(data.y_test - pred))) * 128.0, rel=1e-5)


def test_out_of_range_colorization_prediction_is_clipped_before_rebuilding():
    data = _colorize_data()
    wild = np.where(data.y_test >= 0, 1.5, -1.5).astype(np.float32)
    clipped = np.clip(wild, -1.0, 1.0)
    assert prediction_metrics(data, wild) == prediction_metrics(data, clipped)
    rgb = color.rebuild_rgb(data.x_test, np.clip(wild, -1, 1))
    assert rgb.min() >= 0.0 and rgb.max() <= 1.0


def test_prediction_metrics_refuses_bad_predictions():
    data = _colorize_data()
    with pytest.raises(ValueError, match="shape"):
        prediction_metrics(data, np.zeros((1, 16, 16, 2), dtype=np.float32))
    with pytest.raises(ValueError, match="finite"):
        prediction_metrics(data, np.full(data.y_test.shape, np.nan, dtype=np.float32))


def test_denoising_is_scored_against_the_clean_images():
    clean = np.full((2, 12, 12, 3), 0.5, np.float32)
    data = SimpleNamespace(task=Denoise(0.2), x_test=clean + 0.2, y_test=clean)
    assert prediction_metrics(data, clean + 0.1)["psnr_global_db"] == pytest.approx(20.0, abs=1e-4)


def test_zeroed_latent_psnr_needs_skips_and_measures_what_they_carry():
    from cae_lib.models import build_cae

    x = np.random.default_rng(3).random((2, 32, 32, 3)).astype(np.float32)
    with pytest.raises(ValueError, match="no skip connections"):
        evaluation.zeroed_latent_psnr(build_cae(CAESpec()), x)
    value = evaluation.zeroed_latent_psnr(build_cae(CAESpec(skips="concat")), x)
    assert np.isfinite(value)
