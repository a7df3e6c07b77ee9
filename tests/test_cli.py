import json
import subprocess
import sys

import pytest

from cae_lib.cli import main


def test_list_prints_every_experiment(capsys):
    from cae_lib import experiments

    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in experiments.names())


def test_unknown_experiment_is_a_clear_error(capsys):
    assert main(["train", "nope", "--profile", "smoke"]) == 2
    assert "unknown experiment 'nope'" in capsys.readouterr().err


def test_missing_data_source_is_a_clear_error(capsys, tmp_path):
    assert main(["data", "--source", str(tmp_path / "absent.zip")]) == 2
    assert "absent.zip" in capsys.readouterr().err


def test_import_is_light():
    code = (
        "import sys, cae_lib, cae_lib.runs, cae_lib.experiments, cae_lib.profiles, cae_lib.notebook, cae_lib.cli;"
        "heavy = [m for m in ('tensorflow', 'keras', 'keras_tuner') if m in sys.modules];"
        "print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.slow
@pytest.mark.realdata
def test_train_smoke_on_real_data_prints_metrics(cifar_zip, tmp_path):
    cmd = [sys.executable, "-m", "cae_lib", "train", "given_bce", "--profile", "smoke",
           "--source", str(cifar_zip), "--cache", str(tmp_path)]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=True).stdout
    metrics = json.loads(out[out.index("{"):])
    assert metrics["n_images"] == 100  # 10 test images per class in the smoke profile
    assert 0 < metrics["mse"] < 0.25 and metrics["psnr_global_db"] > 6
    again = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=True).stdout
    assert "loaded from cache" in again
