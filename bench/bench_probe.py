"""How chapter 5's linear probe chose its regularisation (:data:`cae_lib.experiments.PROBE_C`).

    python bench/bench_probe.py            # the mirror or CAE_DATA, full profile (trains given_mse if not cached)
    python bench/bench_probe.py --quick    # the smoke profile: a plumbing check

The probe of the chapter (standardised features, scikit-learn's logistic
regression) is fitted on its training subset for each ``C`` of a grid and
scored on the **validation** part, for raw pixels and for the given network's
code; the fit time is reported too. Writes ``bench/results/probe.json`` and
``probe.md`` (or ``--out``).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import date
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_training import write_results  # noqa: E402

from cae_lib import experiments  # noqa: E402
from cae_lib import representation as rep  # noqa: E402
from cae_lib.data import load_data  # noqa: E402
from cae_lib.tables import markdown_table  # noqa: E402
from cae_lib.tasks import task_data  # noqa: E402
from cae_lib.training import run  # noqa: E402

GRID = (0.0003, 0.001, 0.003, 0.01, 0.1, 1.0)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the smoke profile")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results"))
    args = parser.parse_args(argv)
    profile = "smoke" if args.quick else "full"
    td = task_data("reconstruct", profile)
    labels = load_data().labels
    x_train, y_train, _ = rep.probe_split(td, labels, experiments.PROBE_TRAIN_PER_CLASS[profile])
    y_val = labels[td.val_index]
    given = run(experiments.experiment("given_mse", profile=profile), verbose=0).model
    features = rep.probe_features({"given_mse": given}, x_train, td.x_val)  # pixels, then the code
    rows = []
    for name, (train, val) in features.items():
        for c in GRID:
            start = time.perf_counter()
            probe = rep.linear_probe(train, y_train, val, y_val, C=c)
            rows.append({"features": name, "C": c, "validation accuracy": probe["accuracy"],
                         "fit (s)": time.perf_counter() - start})
            print(rows[-1], flush=True)
    text = "\n\n".join([
        f"# The linear probe's regularisation ({date.today().isoformat()}, profile {profile})",
        f"{len(y_train)} training images, {len(y_val)} validation images; the chapter uses C = {experiments.PROBE_C}.",
        markdown_table(rows, floatfmt={"C": "g", "validation accuracy": ".3f", "fit (s)": ".1f"}),
    ])
    write_results(args.out, "probe", {"profile": profile, "rows": rows}, text)


if __name__ == "__main__":
    main()
