"""Backend settings against training speed: XLA and TensorFlow's thread pools, images/s of the given CAE.

    python bench/bench_backend.py            # every setting, three fresh processes each
    python bench/bench_backend.py --quick    # two settings, one process each: a plumbing check

Thread pools can only be set before TensorFlow starts, so each measurement
runs in a fresh process: it builds the given CAE, compiles it as
:func:`cae_lib.training.compile_model` does (Adam, binary cross-entropy, the
book's metrics) with ``jit_compile`` on or off, trains a few warm-up steps
through :func:`cae_lib.tasks.training_batches` and then times a fixed number of
images. The table gives the median images/s over the repeats and their
range; on a shared machine the range shows how far one measurement can be
trusted. Writes ``bench/results/backend.json`` and ``backend.md`` (or ``--out``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parent.parent

#: (label, jit_compile, intra-op threads, inter-op threads, batch size); 0 threads: TensorFlow's default.
SETTINGS = (
    ("defaults, batch 64", False, 0, 0, 64),
    ("XLA, batch 64", True, 0, 0, 64),
    ("intra 1 / inter 1, batch 64", False, 1, 1, 64),
    ("intra 2 / inter 1, batch 64", False, 2, 1, 64),
    ("intra 1 / inter 2, batch 64", False, 1, 2, 64),
    ("defaults, batch 128", False, 0, 0, 128),
    ("XLA, batch 128", True, 0, 0, 128),
)


def measure(jit: bool, intra: int, inter: int, batch: int, images: int) -> float:
    """Training images/s in this process (call it before anything else starts TensorFlow)."""
    import tensorflow as tf

    if intra:
        tf.config.threading.set_intra_op_parallelism_threads(intra)
    if inter:
        tf.config.threading.set_inter_op_parallelism_threads(inter)
    import keras
    import numpy as np

    sys.path.insert(0, str(ROOT))
    from cae_lib import tasks
    from cae_lib.models import build_cae

    keras.utils.set_random_seed(0)
    model = build_cae()
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="binary_crossentropy", metrics=["mse", "accuracy"],
                  jit_compile=jit)
    x = np.random.default_rng(0).random((8192, 32, 32, 3), dtype=np.float32)
    batches = tasks.training_batches(x, x, batch_size=batch, seed=0)
    model.fit(batches, steps_per_epoch=10, epochs=1, verbose=0)
    steps = max(20, images // batch)
    start = time.perf_counter()
    model.fit(batches, steps_per_epoch=steps, epochs=1, verbose=0)
    return steps * batch / (time.perf_counter() - start)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="two settings, one short process each")
    parser.add_argument("--repeats", type=int, default=3, help="fresh processes per setting (default 3)")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results"), help="folder for JSON and Markdown")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # a single measurement, in a child process
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(measure(**json.loads(args.one))))
        return 0

    settings = SETTINGS[:2] if args.quick else SETTINGS
    repeats = 1 if args.quick else args.repeats
    images = 640 if args.quick else 16384
    rows = []
    for label, jit, intra, inter, batch in settings:
        one = json.dumps({"jit": jit, "intra": intra, "inter": inter, "batch": batch, "images": images})
        runs = []
        for _ in range(repeats):
            done = subprocess.run([sys.executable, __file__, "--one", one], capture_output=True, text=True)
            if done.returncode:
                sys.exit(f"measuring {label!r} failed:\n{done.stderr[-2000:]}")
            runs.append(float(done.stdout.strip().splitlines()[-1]))
        rows.append({"setting": label, "images/s (median)": statistics.median(runs), "lowest": min(runs),
                     "highest": max(runs)})
        print(rows[-1], flush=True)

    sys.path.insert(0, str(ROOT))
    from bench_training import environment, write_results

    from cae_lib.tables import markdown_table

    env = environment()
    result = {"mode": "quick" if args.quick else "full", "environment": env, "repeats": repeats, "rows": rows}
    text = "\n".join([
        f"Backend benchmark of {env['date']} ({result['mode']}), {env['cpu_count']} cores, {env.get('devices')}, "
        f"Keras {env['keras']} on {env['backend']}; training images/s of the given CAE, {repeats} fresh "
        f"process(es) per setting.", "",
        markdown_table(rows, floatfmt=".0f"),
    ])
    write_results(args.out, "backend", result, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
