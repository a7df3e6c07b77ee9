"""cae_lib.findings: the verdicts, sentences and glued numbers the chapters state."""

from types import SimpleNamespace

import numpy as np
import pytest
from _data import colorize_data as _colorize_data

from cae_lib import findings, metrics


def test_accuracy_counterexamples_score_a_darkened_copy_perfectly():
    x = np.random.default_rng(0).random((4, 12, 12, 3)).astype(np.float32)
    rows, facts = findings.accuracy_counterexamples(x, {"model": np.clip(x + 0.05, 0, 1)})
    assert facts["acc_dark"] == 1.0  # halving keeps every pixel's brightest channel
    assert facts["psnr_dark"] < facts["psnr_model"] and facts["psnr_dark_word"] == "below"
    assert [r["prediction"] for r in rows] == ["model", "darkened copy 0.5·x", "flat grey 0.5"]
    grey_hand = float(np.mean(np.argmax(x, axis=-1) == 0))  # argmax of a tie picks the first channel, red
    assert facts["acc_grey"] == pytest.approx(grey_hand)


def test_loss_comparison_counts_images_and_judges_by_two_standard_errors():
    rng = np.random.default_rng(1)
    x = rng.random((30, 12, 12, 3)).astype(np.float32)
    better = np.clip(x + rng.normal(0, 0.02, x.shape), 0, 1).astype(np.float32)
    worse = np.clip(x + rng.normal(0, 0.08, x.shape), 0, 1).astype(np.float32)
    cross, diff, facts = findings.loss_comparison(x, better, worse, floor=metrics.bce_floor(x))
    assert facts["psnr_share"] == 1.0 and facts["psnr_word"] == "higher"
    assert diff[0]["clearly favours"] == "MSE" and facts["verdict"].startswith("supports the report's choice")
    assert cross[0]["mse"] == pytest.approx(metrics.mse(x, better))
    _, _, swapped = findings.loss_comparison(x, worse, better, floor=metrics.bce_floor(x))
    assert swapped["verdict"].startswith("goes against")


def test_variant_facts_rank_at_equal_latent_size():
    rows = [
        {"model": "given_mse", "psnr_global_db": 24.0, "ssim": 0.80, "params": 100, "latent_size": 1024,
         "compression": 1 / 3, "mse": 0.004, "train_seconds": 10.0},
        {"model": "wide", "psnr_global_db": 25.0, "ssim": 0.85, "params": 300, "latent_size": 1024,
         "compression": 1 / 3, "mse": 0.003, "train_seconds": 30.0},
        {"model": "no_pool", "psnr_global_db": 36.0, "ssim": 0.99, "params": 100, "latent_size": 16384,
         "compression": 16 / 3, "mse": 0.0003, "train_seconds": 20.0},
    ]
    f = findings.variant_facts(rows, "given_mse")
    assert f["best_raw_name"] == "no_pool" and f["equal_count"] == 2
    assert f["equal_leader"] == "wide" and f["wide_vs_given"] == "1.00 dB above" and f["wide_params_ratio"] == 3.0
    assert f["fastest_name"] == "given_mse" and f["slowest_name"] == "wide"
    assert f["ssim_order_sentence"] == "SSIM ranks them in the same order."


def test_standing_interpolates_in_log_rate_and_says_who_is_ahead():
    pca = [{"latent_size": 256, "psnr_global_db": 26.0}, {"latent_size": 1024, "psnr_global_db": 44.0}]
    points = [{"model": "a", "latent_size": 1024, "psnr_global_db": 31.0},
              {"model": "b", "latent_size": 256, "psnr_global_db": 27.0}]
    rows, facts = findings.standing(points, pca, (256, 512, 1024))
    assert facts["pca_512"] == pytest.approx(35.0)  # halfway in log-size
    assert facts["best_256_name"] == "b" and facts["best_1024_name"] == "a"
    assert [r["learned − PCA (dB)"] for r in rows] == pytest.approx([1.0, -8.0, -13.0])
    assert facts["standing_sentence"].endswith("beat PCA at 1 of the 3 budgets.")
    assert facts["standing_sentence"].startswith("at 256 values the best learned model (b) is 1.00 dB above PCA")
    bpp = [{**r, "bpp": r["latent_size"] / 32} for r in pca]
    rows, facts = findings.standing([{**p, "bpp": p["latent_size"] / 32} for p in points], bpp, (8, 32),
                                    rate="bpp", reference="JPEG")
    assert facts["jpeg_8"] == pytest.approx(26.0) and rows[0]["bits per pixel"] == 8
    assert facts["standing_sentence"].startswith("at 8 bpp the best learned model (b) is 1.00 dB above JPEG")


def test_goal_standing_finds_the_settings_that_reach_both():
    rows = [{"prediction": "a", "psnr_global_db": 24.0, "colourfulness_pct": 70.0},
            {"prediction": "b", "psnr_global_db": 25.0, "colourfulness_pct": 50.0}]
    assert findings.goal_standing(rows, 23.7, 65.0)["reached"] == ["a"]
    short = findings.goal_standing(rows, 24.5, 65.0)
    assert short["reached"] == [] and short["closest"] == "a" and short["psnr_short_db"] == pytest.approx(0.5)


def test_choose_temperature_never_looks_at_anything_but_the_rows():
    rows = [{"temperature": 1.0, "psnr_global_db": 23.0, "colourfulness_pct": 40.0},
            {"temperature": 0.1, "psnr_global_db": 21.0, "colourfulness_pct": 60.0}]
    assert findings.choose_temperature(rows) == 0.1  # none reaches 65 %: the most colourful
    with pytest.raises(ValueError, match="empty"):
        findings.choose_temperature([])


def test_colour_table_ends_with_the_originals_and_their_full_colourfulness():
    data = _colorize_data()
    rows = findings.colour_table(data, {"truth": data.y_test, "grey": np.zeros_like(data.y_test)})
    assert rows[0]["colourfulness_pct"] == pytest.approx(100.0) and rows[1]["colourfulness"] == pytest.approx(0.0, abs=1e-3)
    assert rows[-1]["prediction"] == "original images" and rows[-1]["chroma"] == pytest.approx(rows[0]["chroma"])


def test_photo_rows_score_each_model_on_each_photograph():
    photo = np.random.default_rng(2).integers(0, 256, (20, 30, 3), dtype=np.uint8)
    same = photo.astype(np.float32) / 255.0
    rows = findings.photo_rows({"p": photo}, {"copy": {"p": same}, "grey": {"p": np.full_like(same, 0.5)}})
    assert rows[0]["psnr_db"] == metrics.PSNR_CAP_DB and rows[0]["colourfulness_pct"] == pytest.approx(100.0)
    assert rows[1]["colourfulness_pct"] == 0.0


def test_stopping_facts_name_the_runs_that_stopped_early():
    def result(losses, cap):
        return SimpleNamespace(history={"val_loss": losses}, stopped_early=len(losses) < cap)

    facts = findings.stopping_facts({"a": result([0.3, 0.2], 2), "b": result([0.25], 2)})
    assert facts["lowest_val_name"] == "a" and facts["stopped_early_text"] == "1 of the 2 runs (b)"


def test_verdicts_at_each_noise_level_from_the_chapters_table():
    rows = [
        {"sigma": 0.1, "method": "non-local means (h = 15)", "psnr_global_db": 25.4, "psnr_subset_db": 25.3, "h": 15.0},
        {"sigma": 0.1, "method": "BM3D", "psnr_global_db": 28.9, "psnr_subset_db": 28.9},
        {"sigma": 0.1, "method": "pooled", "psnr_global_db": 22.6, "psnr_subset_db": 22.5},
        {"sigma": 0.1, "method": "unpooled", "psnr_global_db": 27.2, "psnr_subset_db": 27.1},
        {"sigma": 0.1, "method": "red", "psnr_global_db": 28.2, "psnr_subset_db": 28.0},
        {"sigma": 0.2, "method": "non-local means (h = 30)", "psnr_global_db": 21.6, "psnr_subset_db": 21.5, "h": 30.0},
        {"sigma": 0.2, "method": "BM3D (not installed: pip install bm3d)", "psnr_global_db": None, "psnr_subset_db": None},
        {"sigma": 0.2, "method": "pooled", "psnr_global_db": 20.0, "psnr_subset_db": 20.0},
        {"sigma": 0.2, "method": "red", "psnr_global_db": 24.0, "psnr_subset_db": 24.1},
    ]
    facts = findings.verdicts(rows, {"pooled": "pooled", "unpooled": "unpooled", "rednet": "red"}, (0.1, 0.2))
    assert facts["s1_pooling_sentence"].startswith("Removing the pooling from the same small network raises its PSNR by 4.60 dB")
    assert facts["s1_skips_sentence"].startswith("RED-Net's symmetric skips and residual output add 1.00 dB")
    assert facts["s1_bm3d_sentence"].startswith("BM3D beats every learned model here: 28.90 dB against 28.00 dB")
    assert facts["s1_rednet_vs_nlm"] == "2.80 dB above" and facts["s1_nlm_h"] == 15.0
    assert facts["s2_bm3d_sentence"].startswith("BM3D was not measured") and "s2_pooling_sentence" not in facts


def _probe_row(name, values, psnr, acc):
    return {"features": name, "values": values, "psnr_global_db": psnr, "probe_accuracy": acc, "ci_low": acc - 0.01,
            "ci_high": acc + 0.01, "knn_accuracy": acc - 0.1, "n_train": 100, "n_test": 50}


def test_probe_facts_judge_the_aim_and_the_relation_with_scipys_spearman():
    from scipy.stats import spearmanr

    from cae_lib import findings

    base = [{"features": "pixels", "values": 3072, "probe_accuracy": 0.40, "knn_accuracy": 0.30},
            {"features": "PCA-256", "values": 256, "probe_accuracy": 0.38, "knn_accuracy": 0.31}]
    psnr = [20.0, 22.0, 24.0, 26.0, 28.0, 30.0]
    acc = [0.50, 0.48, 0.47, 0.44, 0.43, 0.41]  # strictly falling: rho = -1
    rows = [_probe_row(f"m{i}", 256 if i == 0 else 1024, p, a) for i, (p, a) in enumerate(zip(psnr, acc))]
    f = findings.probe_facts(rows, base)
    assert f["best_code_name"] == "m0" and f["best_code_vs_pixels"] == "10.0 points above"
    assert f["pca_same_acc"] == pytest.approx(38.0) and f["best_code_vs_pca"] == "12.0 points above PCA with as many coefficients"
    assert f["pca_same_text"] == "38.0 %"
    assert (f["aim_name"], f["aim_reached"]) == ("m0", "reached")  # 256 <= 307 values and 10 >= 5 points
    reference = spearmanr(psnr, acc)
    assert f["rho"] == pytest.approx(reference.statistic) and f["p_value"] == pytest.approx(reference.pvalue)
    assert f["relation_verdict"].startswith("a significant negative rank relation across the 6 models")
    mixed = findings.probe_facts([*rows[:2], _probe_row("m9", 1024, 21.0, 0.42)], base)
    assert mixed["relation_verdict"].startswith("no significant rank relation") and mixed["aim_margin"] == pytest.approx(10.0)
    big_only = findings.probe_facts([_probe_row("b", 1024, 25.0, 0.44)], base)
    assert big_only["aim_reached"] == "not reached" and "rho" not in big_only  # one model: no relation
    assert big_only["pca_same_acc"] is None and big_only["pca_same_text"].startswith("none of 1,024")
    with pytest.raises(ValueError, match="pixels"):
        findings.probe_facts(rows, base[1:])


def test_novelty_facts_and_the_best_compressor():
    from cae_lib import findings

    f = findings.novelty_facts([{"model": "m", "kind": "uniform noise", "auc": 0.99},
                                {"model": "m", "kind": "flat colours", "auc": 0.3},
                                {"model": "n", "kind": "flat colours", "auc": 0.7}])
    assert f["auc_m_uniform_noise"] == 0.99 and f["auc_m_flat_colours"] == 0.3
    assert f["novelty_m"] == ("flags uniform noise (AUC 0.99); does not flag flat colours (AUC 0.30), whose errors "
                              "are mostly smaller than the test images' own")
    assert f["novelty_n"] == "flags none of the kinds; does not flag flat colours (AUC 0.70)"
    rows = [_probe_row("no_pool", 16384, 37.0, 0.4), _probe_row("tuned", 1024, 36.0, 0.4),
            _probe_row("given", 1024, 24.0, 0.4)]
    assert findings.best_compressor(rows, 3072) == "tuned"
    with pytest.raises(ValueError, match="fewer than 3072"):
        findings.best_compressor(rows[:1], 3072)
