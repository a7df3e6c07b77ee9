"""Tests for cae_lib.plots: structure of the returned figures and input validation."""

import matplotlib

matplotlib.use("Agg")

import io

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure

from cae_lib import color, plots
from cae_lib import plots as P


@pytest.fixture(autouse=True)
def no_open_figures():
    """Every plotting function must leave pyplot with no open figures."""
    plt.close("all")
    yield
    assert plt.get_fignums() == []
    plt.close("all")


def _images(n=20, size=8, seed=0, channels=3):
    return np.random.default_rng(seed).integers(0, 256, (n, size, size, channels), dtype=np.uint8)


H1 = {"loss": [1.0, 0.6, 0.4], "val_loss": [1.1, 0.8, 0.7], "mse": [0.1, 0.05, 0.03], "val_mse": [0.12, 0.09, 0.08]}
H2 = {"loss": [2.0, 1.0], "val_loss": [2.5, 1.5]}


# --------------------------------------------------------------------------- fixed_sample


def test_fixed_sample_is_seeded_sorted_distinct():
    a = P.fixed_sample(8, 6000, seed=0)
    assert a.dtype == np.int64 and a.shape == (8,)
    np.testing.assert_array_equal(a, P.fixed_sample(8, 6000, seed=0))
    assert np.all(np.diff(a) > 0) and a.min() >= 0 and a.max() < 6000
    assert not np.array_equal(a, P.fixed_sample(8, 6000, seed=1))
    # the legacy RandomState stream: first 3 of permutation(10) with seed 0 are 2, 8, 4
    np.testing.assert_array_equal(P.fixed_sample(3, 10), [2, 4, 8])
    np.testing.assert_array_equal(P.fixed_sample(10, 10), np.arange(10))


@pytest.mark.parametrize("n, total", [(0, 10), (11, 10), (3, 0), (2.5, 10)])
def test_fixed_sample_bad_input(n, total):
    with pytest.raises(ValueError):
        P.fixed_sample(n, total)


# --------------------------------------------------------------------------- curves


def test_loss_curves_single_history():
    fig = P.loss_curves(H1)
    assert isinstance(fig, Figure) and len(fig.axes) == 1
    ax = fig.axes[0]
    assert [ln.get_label() for ln in ax.lines] == ["train", "validation"]
    assert [ln.get_linestyle() for ln in ax.lines] == ["-", "--"]
    assert ax.lines[0].get_color() == ax.lines[1].get_color()
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), [1, 2, 3])  # epochs count from 1
    np.testing.assert_array_equal(ax.lines[1].get_ydata(), H1["val_loss"])
    assert ax.get_xlabel() == "epoch" and ax.get_ylabel() == "loss"
    assert ax.get_yscale() == "linear"


def test_loss_curves_several_runs_title_logy():
    fig = P.loss_curves({"given": H1, "wide": H2}, title="Loss", logy=True)
    ax = fig.axes[0]
    labels = [ln.get_label() for ln in ax.lines]
    assert labels == ["given (train)", "given (validation)", "wide (train)", "wide (validation)"]
    colours = [ln.get_color() for ln in ax.lines]
    assert colours[0] == colours[1] != colours[2] == colours[3]
    assert ax.get_title() == "Loss" and ax.get_yscale() == "log"
    assert len(ax.get_legend().get_texts()) == 4


def test_loss_curves_accepts_keras_history_and_missing_validation():
    class FakeHistory:  # duck-typed like keras.callbacks.History
        history = {"loss": [0.3, 0.2]}

    fig = P.loss_curves({"a": FakeHistory(), "b": H2})
    assert [ln.get_label() for ln in fig.axes[0].lines] == ["a (train)", "b (train)", "b (validation)"]
    assert len(P.loss_curves(FakeHistory()).axes[0].lines) == 1


def test_metric_curves():
    fig = P.metric_curves({"given": H1}, "mse")
    ax = fig.axes[0]
    assert ax.get_ylabel() == "mse"
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), H1["mse"])
    np.testing.assert_array_equal(ax.lines[1].get_ydata(), H1["val_mse"])


@pytest.mark.parametrize(
    "histories, kwargs, match",
    [
        ({}, {}, "non-empty"),
        ([], {}, "non-empty"),
        ({"a": H1, "loss": [1.0]}, {}, "mixes"),
        ({"a": H2}, {"keys": ("accuracy",)}, "none of the keys"),
        ({"loss": []}, {}, "non-empty list"),
        ({"loss": [1.0, 0.0]}, {"logy": True}, "positive"),
        (H1, {"keys": ()}, "at least one"),
    ],
)
def test_loss_curves_bad_input(histories, kwargs, match):
    with pytest.raises(ValueError, match=match):
        P.loss_curves(histories, **kwargs)


def test_metric_curves_bad_metric():
    with pytest.raises(ValueError, match="metric"):
        P.metric_curves(H1, "")


# --------------------------------------------------------------------------- image grids


def _n_images(fig):
    return sum(len(ax.images) for ax in fig.axes)


def test_sample_grid_rows_are_classes():
    x = _images(30)
    y = np.repeat(np.arange(3), 10)
    y[-7:] = 1  # class 2 keeps only 3 images
    fig = P.sample_grid(x, y, ["cat", "dog", "frog"], n_per_class=4)
    assert len(fig.axes) == 12
    assert _n_images(fig) == 4 + 4 + 3
    ylabels = [ax.get_ylabel() for ax in fig.axes if ax.get_ylabel()]
    assert ylabels == ["cat", "dog", "frog"]
    # the cat row shows images of class 0, in the seeded order
    members = np.flatnonzero(y == 0)[P.fixed_sample(4, 10)]
    np.testing.assert_array_equal(fig.axes[0].images[0].get_array(), x[members[0]])


def test_sample_grid_grey_and_float():
    x = np.random.default_rng(1).random((6, 8, 8))
    fig = P.sample_grid(x, np.array([0, 0, 0, 1, 1, 1]), ["a", "b"], n_per_class=2)
    assert _n_images(fig) == 4
    assert fig.axes[0].images[0].get_cmap().name == "gray"


@pytest.mark.parametrize(
    "labels, names, n, match",
    [
        (np.zeros(5, int), ["a"], 2, "one per image"),
        (np.zeros(6), ["a"], 2, "integers"),
        (np.array([0, 1, 2, 0, 1, 5]), ["a", "b", "c"], 2, "lie in"),
        (np.zeros(6, int), [], 2, "empty"),
        (np.zeros(6, int), ["a"], 0, "n_per_class"),
    ],
)
def test_sample_grid_bad_input(labels, names, n, match):
    with pytest.raises(ValueError, match=match):
        P.sample_grid(_images(6), labels, names, n_per_class=n)


def test_reconstruction_grid_same_images_for_every_model():
    x = np.random.default_rng(2).random((50, 8, 8, 3))
    outs = {"given": 1 - x, "wide": x * 0.5}
    fig = P.reconstruction_grid(x, outs, n=5)
    assert len(fig.axes) == 15 and _n_images(fig) == 15
    assert [fig.axes[r * 5].get_ylabel() for r in range(3)] == ["input", "given", "wide"]
    idx = P.fixed_sample(5, 50)
    assert [fig.axes[c].get_title() for c in range(5)] == [f"#{i}" for i in idx]
    for c, i in enumerate(idx):
        np.testing.assert_allclose(fig.axes[c].images[0].get_array(), x[i])
        np.testing.assert_allclose(fig.axes[5 + c].images[0].get_array(), 1 - x[i])
        np.testing.assert_allclose(fig.axes[10 + c].images[0].get_array(), 0.5 * x[i])


def test_reconstruction_grid_explicit_indices_and_clipping():
    x = np.random.default_rng(3).random((10, 8, 8, 3))
    fig = P.reconstruction_grid(x, {"linear": x + 0.5}, indices=[7, 1], show_indices=False)
    assert len(fig.axes) == 4 and fig.axes[0].get_title() == ""
    assert fig.axes[2].images[0].get_array().max() <= 1.0
    np.testing.assert_allclose(fig.axes[1].images[0].get_array(), x[1])


@pytest.mark.parametrize(
    "outputs, kwargs, match",
    [
        ({}, {}, "non-empty"),
        ({"m": np.zeros((10, 8, 8, 1))}, {}, "must match"),
        ({"m": np.zeros((9, 8, 8, 3))}, {}, "must match"),
        ({"m": np.zeros((10, 8, 8, 3))}, {"indices": [10]}, "indices"),
        ({"m": np.zeros((10, 8, 8, 3))}, {"indices": [0.5]}, "indices"),
        ({"m": np.zeros((10, 8, 8, 2))}, {}, "shape"),
    ],
)
def test_reconstruction_grid_bad_input(outputs, kwargs, match):
    with pytest.raises(ValueError, match=match):
        P.reconstruction_grid(np.zeros((10, 8, 8, 3)), outputs, **kwargs)


def test_colorization_grid():
    rng = np.random.default_rng(4)
    rgb = rng.random((12, 8, 8, 3))
    gray = rgb.mean(axis=-1, keepdims=True)
    fig = P.colorization_grid(gray, rgb[::-1], rgb, n=4)
    assert len(fig.axes) == 12 and _n_images(fig) == 12
    assert [fig.axes[r * 4].get_ylabel() for r in range(3)] == ["grayscale", "colorized", "original"]
    assert fig.axes[0].images[0].get_cmap().name == "gray"
    idx = P.fixed_sample(4, 12)
    np.testing.assert_allclose(fig.axes[8].images[0].get_array(), rgb[idx[0]])
    np.testing.assert_allclose(fig.axes[4].images[0].get_array(), rgb[::-1][idx[0]])
    # (N, H, W) grey input is accepted too
    assert len(P.colorization_grid(gray[..., 0], rgb, rgb, n=2).axes) == 6


def test_colorization_grid_bad_input():
    rgb = np.zeros((4, 8, 8, 3))
    with pytest.raises(ValueError, match="one channel"):
        P.colorization_grid(rgb, rgb, rgb)
    with pytest.raises(ValueError, match="colorized"):
        P.colorization_grid(rgb[..., :1], rgb[:3], rgb)


# --------------------------------------------------------------------------- a*b* plane


def test_ab_plane_figure():
    color = pytest.importorskip("cae_lib.color")
    fig = P.ab_plane_figure(L=50, size=32, extent=100, out_of_gamut_grey=0.85)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "a*" and ax.get_ylabel() == "b*"
    assert len(ax.images) == 1
    img = ax.images[0]
    assert tuple(img.get_extent()) == (-100, 100, -100, 100)
    rgb = np.asarray(img.get_array())
    _, mask = color.ab_plane(L=50, size=32, extent=100)
    assert mask.any() and (~mask).any()
    np.testing.assert_allclose(rgb[~mask], 0.85)  # out of gamut: neutral grey
    # top row is b* = +100: the top-right corner (a* = b* = +100) is outside sRGB at L* = 50
    np.testing.assert_allclose(rgb[0, -1], 0.85)
    assert np.ptp(rgb[16, 16]) < 0.1  # a*, b* near 0: nearly neutral
    with pytest.raises(ValueError):
        P.ab_plane_figure(L=150)


# --------------------------------------------------------------------------- figures are usable after return


def test_returned_figure_can_be_saved():
    fig = P.loss_curves(H1)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    assert buf.getvalue()[:8] == b"\x89PNG\r\n\x1a\n"


# --------------------------------------------------------------------------- markdown table


ROWS = [
    {"model": "given", "latent_size": 1024, "psnr_global_db": 24.0},
    {"model": "no_pool", "latent_size": 16384, "psnr_global_db": 35.0},
    {"model": "small", "latent_size": 256, "psnr_global_db": 20.0},
]


def _points(ax):
    """(x, y) of every scatter point on the axes, in drawing order."""
    return [tuple(p) for coll in ax.collections for p in coll.get_offsets()]


def test_latent_figure_marks_each_model():
    fig = plots.latent_figure(ROWS, "psnr_global_db", ylabel="PSNR (dB)")
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
    fig = plots.latent_figure(best, "val_loss", label=None, background=trials, connect=True, input_values=None,
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
    ax = plots.latent_figure(rows, "val_loss", label=None, input_values=None).axes[0]
    assert list(ax.get_xticks()) == [256, 512, 768, 1024]
    formatter = ax.xaxis.get_major_formatter()
    assert [formatter(t, 0) for t in ax.get_xticks()] == ["256", "512", "768", "1024"]


def test_latent_figure_can_be_saved(tmp_path):
    plots.latent_figure(ROWS, "psnr_global_db").savefig(tmp_path / "f.png")
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
        plots.latent_figure(rows, "psnr_global_db", **kwargs)


def test_lab_split_figure_shows_the_lab_channels():
    rng = np.random.default_rng(1)
    rgb = rng.integers(0, 256, size=(2, 8, 8, 3), dtype=np.uint8)
    fig = plots.lab_split_figure(rgb, extent=90)
    lab = color.rgb_to_lab(rgb)
    images = [ax.images[0] for ax in fig.axes[:8]]  # 2 rows x (RGB, L*, a*, b*); colour bars come after
    assert len(fig.axes) == 8 + 6
    np.testing.assert_array_equal(images[0].get_array(), rgb[0])
    for row in range(2):
        for c in range(3):
            np.testing.assert_allclose(images[4 * row + 1 + c].get_array(), lab[row, ..., c])
    assert images[1].get_clim() == (0.0, 100.0)
    assert images[2].get_clim() == (-90, 90) and images[3].get_clim() == (-90, 90)
    # The a* scale runs from green (negative a*) to magenta-red (positive a*).
    cmap = images[2].get_cmap()
    low, high = cmap(0.0), cmap(1.0)
    assert low[1] > low[0] and high[0] > high[1]


def test_lab_split_figure_default_extent_and_errors():
    img = np.zeros((8, 8, 3), dtype=np.float32)
    img[..., 2] = 1.0  # pure blue: b* about -108
    fig = plots.lab_split_figure(img)
    assert fig.axes[3].images[0].get_clim() == (-108.0, 108.0)
    with pytest.raises(ValueError, match="extent"):
        plots.lab_split_figure(img, extent=0)
    with pytest.raises(ValueError, match="scale_chroma"):
        plots.lab_split_figure(img, scale_chroma=-1)
    with pytest.raises(ValueError, match="shape"):
        plots.lab_split_figure(np.zeros((8, 8), dtype=np.uint8))


# --------------------------------------------------------------------------- comparisons across methods


def test_rate_distortion_figure_draws_curves_points_and_the_input_size():
    fig = P.rate_distortion_figure(
        {"PCA": [{"latent_size": 1024, "psnr_global_db": 44.0}, {"latent_size": 256, "psnr_global_db": 26.0}]},
        [{"model": "given", "latent_size": 1024, "psnr_global_db": 24.0}],
    )
    ax = fig.axes[0]
    line = ax.get_lines()[0]
    assert list(line.get_xdata()) == [256, 1024]  # sorted by size
    assert _points(ax) == [(1024.0, 24.0)]
    assert ax.get_xscale() == "log"
    assert any(line.get_xdata()[0] == 3072 for line in ax.get_lines()[1:])  # the input-size line


def test_rate_distortion_figure_plots_bits_per_pixel_when_asked():
    fig = P.rate_distortion_figure({"JPEG": [{"bpp": 2.0, "psnr_global_db": 30.0}, {"bpp": 0.5, "psnr_global_db": 24.0}]},
                                   [{"model": "codec", "bpp": 1.0, "psnr_global_db": 28.0}], rate="bpp", input_rate=24)
    ax = fig.axes[0]
    assert list(ax.get_lines()[0].get_xdata()) == [0.5, 2.0] and _points(ax) == [(1.0, 28.0)]
    assert ax.get_xlabel() == "bits per pixel (log scale)"
    with pytest.raises(ValueError, match="rate must be one of"):
        P.rate_distortion_figure({}, [{"model": "m", "x": 1, "psnr_global_db": 1}], rate="x")


def test_tradeoff_figure_joins_a_series_and_shades_the_goal():
    rows = [{"prediction": "T=1", "psnr_global_db": 23.0, "colourfulness_pct": 50.0, "series": "classes"},
            {"prediction": "T=0.1", "psnr_global_db": 22.0, "colourfulness_pct": 90.0, "series": "classes"},
            {"prediction": "grey", "psnr_global_db": 22.0, "colourfulness_pct": 0.0}]
    fig = P.tradeoff_figure(rows, goal=(23.7, 65.0))
    ax = fig.axes[0]
    assert list(ax.get_lines()[0].get_xdata()) == [50.0, 90.0]
    kinds = [type(c).__name__ for c in ax.collections]
    assert kinds.count("PathCollection") == 3 and ("PolyCollection" in kinds or "FillBetweenPolyCollection" in kinds)


def test_method_bars_place_each_method_in_each_group():
    rows = [{"sigma": 0.1, "method": "a", "psnr_global_db": 25.0}, {"sigma": 0.2, "method": "a", "psnr_global_db": 21.0},
            {"sigma": 0.1, "method": "b", "psnr_global_db": 27.0}, {"sigma": 0.1, "method": "c", "psnr_global_db": None}]
    ax = P.method_bars(rows, group="sigma").axes[0]
    assert sorted(p.get_height() for p in ax.patches) == [21.0, 25.0, 27.0]
    with pytest.raises(ValueError, match="no row"):
        P.method_bars([{"sigma": 1, "method": "a", "psnr_global_db": None}], group="sigma")


def test_photo_grids_keep_each_photographs_aspect():
    photos = {"wide": np.zeros((20, 40, 3), np.uint8), "tall": np.zeros((40, 20, 3), np.uint8)}
    colorized = {"m": {"wide": np.zeros((20, 40, 3), np.float32), "tall": np.zeros((40, 20, 3), np.float32)}}
    fig = P.colorized_photos_figure(photos, colorized)
    assert len(fig.axes) == 3 * 2 and fig.axes[0].get_title() == "wide"
    assert [ax.get_ylabel() for ax in fig.axes[::2]] == ["grey input", "m", "original"]
    with pytest.raises(ValueError, match="same"):
        P.photo_grid({"a": [photos["wide"]], "b": []})


def test_probe_figure_marks_each_model_and_baseline():
    rows = [{"features": n, "psnr_global_db": p, "probe_accuracy": a, "ci_low": a - 0.01, "ci_high": a + 0.02}
            for n, p, a in (("a", 23.0, 0.4), ("b", 25.0, 0.45))]
    fig = plots.probe_figure(rows, [{"features": "pixels", "values": 3072, "probe_accuracy": 0.41}])
    ax = fig.axes[0]
    labels = ax.get_legend_handles_labels()[1]
    assert labels == ["pixels (3072 values)", "a", "b"]
    line = next(line for line in ax.lines if np.allclose(line.get_ydata(), 41.0))
    assert np.allclose(line.get_ydata(), 41.0)
    with pytest.raises(ValueError, match="empty"):
        plots.probe_figure([])


def test_error_histograms_one_panel_per_model():
    e = {"m": {"test images": np.linspace(1e-3, 2e-3, 50), "noise": np.linspace(0.05, 0.1, 50)},
         "n": {"test images": np.linspace(1e-3, 3e-3, 50), "noise": np.linspace(0.05, 0.2, 50)}}
    fig = plots.error_histograms(e)
    assert [ax.get_title() for ax in fig.axes] == ["m", "n"] and fig.axes[0].get_xscale() == "log"
    with pytest.raises(ValueError, match="empty"):
        plots.error_histograms({})


def test_embedding_figure_colours_classes():
    fig = plots.embedding_figure(np.arange(12.0).reshape(6, 2), [0, 1, 2, 0, 1, 2], ["a", "b", "c"])
    assert [c.get_offsets().shape[0] for c in fig.axes[0].collections] == [2, 2, 2]
    with pytest.raises(ValueError, match="N labels"):
        plots.embedding_figure(np.zeros((3, 2)), [0, 1], ["a", "b"])
