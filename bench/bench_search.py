"""Search ranking against cost: the stored search's best architectures re-scored under cheaper trial settings.

    python bench/bench_search.py             # full profile; loads the book's search (`make runs` stores it)
    python bench/bench_search.py --quick     # smoke profile: seconds, a plumbing check
    python bench/bench_search.py --setting 500x12 --setting 250x6

A keras-tuner trial of chapter 2's search trains on ``tuner_train_per_class``
images per class for at most ``tuner_max_epochs`` epochs (the profile's
values) and is scored by its best validation MSE. This benchmark takes the
``--top`` best distinct architectures (with their learning rates) of the
stored search and trains each one again, from the same seed, under the
reference setting and under each cheaper ``PER_CLASSxEPOCHS`` setting, with
the search's early stopping. For each setting it reports the wall time and how
far its ranking of those candidates agrees with the reference setting's:
Spearman's rank correlation, whether the best candidate is the same, and how
many of the reference's top three stay in the top three. A cheaper setting
that keeps the ranking would find the same architecture for less time.
Writes ``bench/results/search.json`` and ``search.md`` (or ``--out``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def parse_setting(text: str) -> tuple[int, int]:
    """``"500x6"`` → ``(500, 6)``: training images per class, most epochs per trial."""
    try:
        per_class, epochs = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"a setting is PER_CLASSxEPOCHS such as 500x6, got {text!r}") from None
    if per_class <= 0 or epochs <= 0:
        raise argparse.ArgumentTypeError(f"both numbers of a setting must be positive, got {text!r}")
    return per_class, epochs


def cheaper_settings(per_class: int, epochs: int) -> list[tuple[int, int]]:
    """Half the images, half the epochs, and both halved: the default settings compared with the reference.

    Example:
        >>> cheaper_settings(1000, 12)
        [(500, 12), (1000, 6), (500, 6)]
    """
    fewer, shorter = max(1, per_class // 2), max(1, epochs // 2)
    return [(fewer, epochs), (per_class, shorter), (fewer, shorter)]


def candidates(trials, top: int) -> list[dict]:
    """The ``top`` best completed trials, one per distinct set of hyperparameters, best first."""
    seen, picked = set(), []
    done = [t for t in trials if t["status"] == "COMPLETED" and t["val_mse"] is not None]
    for t in sorted(done, key=lambda t: t["val_mse"]):
        # keras-tuner's own "tuner/..." entries (bracket, round, epochs) differ between
        # trials of one architecture that Hyperband trained for longer
        key = json.dumps({k: v for k, v in t["hyperparameters"].items() if not k.startswith("tuner/")},
                         sort_keys=True)
        if key not in seen:
            seen.add(key)
            picked.append(t)
    return picked[:top]


def agreement(reference: list[float], other: list[float]) -> dict:
    """How far ``other``'s ranking of the candidates agrees with ``reference``'s (lower is better).

    Example:
        >>> agreement([1.0, 2.0, 3.0, 4.0], [1.5, 2.5, 4.5, 3.5])["same_best"]
        True
    """
    from scipy.stats import spearmanr

    def order(scores):
        return sorted(range(len(scores)), key=lambda i: scores[i])

    ref, oth = order(reference), order(other)
    rho = spearmanr(reference, other).statistic if len(reference) > 1 else 1.0
    return {"spearman": float(rho), "same_best": ref[0] == oth[0], "top3_kept": len(set(ref[:3]) & set(oth[:3]))}


def rescore(hypermodel, trial, x_train, validation, epochs, patience) -> dict:
    """Train one trial's architecture again under a setting, as the search's trials train."""
    import keras
    import keras_tuner as kt

    from cae_lib.tuning import OBJECTIVE

    hp = kt.HyperParameters()
    hypermodel.spec_for(hp)  # declares the space
    hp.values.update(trial["hyperparameters"])
    model = hypermodel.build(hp)
    callbacks = [keras.callbacks.EarlyStopping(monitor=OBJECTIVE, mode="min", patience=patience)] if patience else []
    return hypermodel.fit(hp, model, x_train, validation_data=validation, epochs=epochs, callbacks=callbacks)


def markdown(result) -> str:
    from cae_lib.tables import markdown_table

    env = result["environment"]
    lines = [f"Search benchmark of {env['date']} ({result['mode']}), {env['cpu_count']} cores, "
             f"Keras {env['keras']}, keras-tuner {env['keras_tuner']}; the stored search took "
             f"{result['search_seconds']:.0f} s of trial training over {result['search_trials']} trials.", "",
             "Validation MSE of each candidate (the stored search's best distinct architectures) per setting "
             "(training images per class × most epochs):", ""]
    settings = list(result["settings"])
    rows = []
    for i, cand in enumerate(result["candidates"]):
        row = {"#": i + 1, "architecture": cand["architecture"]}
        row.update({s: result["settings"][s]["val_mse"][i] for s in settings})
        rows.append(row)
    lines.append(markdown_table(rows, floatfmt=".5f"))
    lines += ["", markdown_table([
        {"setting": s, "reference": s == result["reference"], "seconds": v["seconds"],
         "images trained": v["images_trained"],
         "share of reference time": v["seconds"] / result["settings"][result["reference"]]["seconds"],
         "Spearman": v["agreement"]["spearman"], "same best": v["agreement"]["same_best"],
         "top 3 kept": v["agreement"]["top3_kept"]}
        for s, v in result["settings"].items()
    ], floatfmt={"seconds": ".0f", "images trained": ",.0f", "share of reference time": ".2f", "Spearman": ".2f"})]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke profile and two candidates: seconds")
    parser.add_argument("--top", type=int, default=8, help="how many of the search's best architectures (default 8)")
    parser.add_argument("--setting", action="append", type=parse_setting, default=[],
                        help="a cheaper PER_CLASSxEPOCHS setting to compare (repeatable; default: the profile's "
                             "images per class halved, its epochs halved, and both)")
    parser.add_argument("--source", help="CIFAR-10 copy (default CAE_DATA, else Keras' download)")
    parser.add_argument("--cache", default=None, help="run cache holding the search (default CAE_CACHE)")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results"), help="folder for JSON and Markdown")
    args = parser.parse_args(argv)

    import keras_tuner as kt
    from bench_training import environment, write_results

    from cae_lib import experiments, tasks, tuning
    from cae_lib.data import load_data
    from cae_lib.models import CAESpec
    from cae_lib.profiles import get_profile

    profile = get_profile("smoke" if args.quick else "full")
    data = load_data(args.source)
    settings = experiments.search_settings("latent_search")
    result = tuning.search("latent_search", **settings, profile=profile, data=data, cache_dir=args.cache)
    top = 2 if args.quick else args.top
    chosen = candidates(result.trials, top)
    reference = (profile.tuner_train_per_class, profile.tuner_max_epochs)
    cheaper = args.setting or ([(2, 1)] if args.quick else cheaper_settings(*reference))
    # the search's own training settings, as its best run carries them
    best = result.best
    if best is None:
        sys.exit(f"the stored search {result.path.name} has no completed trial to re-score; run it first (make runs)")
    hypermodel = tuning.CAEHyperModel(loss=best.loss, latent_budget=result.latent_budget, optimizer=best.optimizer,
                                      batch_size=best.batch_size, seed=best.seed)
    patience = best.early_stopping_patience
    arrays = tasks.task_data("reconstruct", profile, data=data)
    validation = (arrays.x_val, arrays.y_val)

    scores = {}
    for per_class, epochs in [reference, *cheaper]:
        label = f"{per_class or 'all'}x{epochs}"
        x_train = tuning.trial_images(arrays, data.labels, per_class)
        start = time.perf_counter()
        rows = [rescore(hypermodel, t, x_train, validation, epochs, patience) for t in chosen]
        scores[label] = {"val_mse": [r[tuning.OBJECTIVE] for r in rows], "epochs_run": [r["epochs_run"] for r in rows],
                         "seconds": time.perf_counter() - start,
                         "images_trained": int(len(x_train) * sum(r["epochs_run"] for r in rows))}
        print(f"{label}: {scores[label]['seconds']:.0f} s, val MSE {[round(v, 5) for v in scores[label]['val_mse']]}",
              flush=True)
    ref_label = next(iter(scores))
    for s in scores.values():
        s["agreement"] = agreement(scores[ref_label]["val_mse"], s["val_mse"])
    env = environment()
    env["keras_tuner"] = kt.__version__
    out = {
        "mode": "quick" if args.quick else "full", "environment": env, "reference": ref_label,
        "search_seconds": sum(t.get("seconds") or 0 for t in result.trials), "search_trials": len(result.trials),
        "candidates": [{"trial_id": t["trial_id"], "search_val_mse": t["val_mse"], "hyperparameters": t["hyperparameters"],
                        "architecture": tuning.describe_spec(CAESpec.from_dict(t["spec"]), t["learning_rate"])}
                       for t in chosen],
        "settings": scores,
    }
    write_results(args.out, "search", out, markdown(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
