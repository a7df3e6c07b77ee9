import pytest

from cae_lib.profiles import PROFILES, get_profile


def test_full_is_the_default(monkeypatch):
    monkeypatch.delenv("CAE_PROFILE", raising=False)
    assert get_profile().name == "full"


def test_environment_selects_the_profile(monkeypatch):
    monkeypatch.setenv("CAE_PROFILE", " Smoke ")
    assert get_profile().name == "smoke"


def test_unknown_profile_names_the_choices(monkeypatch):
    monkeypatch.setenv("CAE_PROFILE", "fast")
    with pytest.raises(ValueError, match=r"'fast'.*CAE_PROFILE.*\['full', 'smoke'\]"):
        get_profile()
    with pytest.raises(ValueError, match="from the argument"):
        get_profile("tiny")


def test_full_uses_everything_and_smoke_caps_epochs():
    full, smoke = PROFILES["full"], PROFILES["smoke"]
    assert (full.train_per_class, full.val_per_class, full.test_per_class, full.max_epochs) == (None,) * 4
    assert full.epochs(20) == 20
    assert smoke.epochs(20) == 2 and smoke.epochs(1) == 1
    assert smoke.train_per_class < 4800 and smoke.tuner_max_trials < full.tuner_max_trials
