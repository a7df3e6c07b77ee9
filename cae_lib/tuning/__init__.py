"""Architecture search with keras-tuner, under a latent-size budget.

Three modules, all re-exported here:

- :mod:`cae_lib.tuning.space`: the search space, :class:`CAEHyperModel`, its constants and the latent budget.
- :mod:`cae_lib.tuning.search`: running a search, :func:`search`: the tuners, the distributed role, the stored state.
- :mod:`cae_lib.tuning.report`: what is shown of a search: the trials and search-space tables, the best per latent.

:class:`CAEHyperModel` is a ``keras_tuner.HyperModel`` over the parametric
builder :func:`cae_lib.models.build_cae`. Its search space, with the given
network's values as defaults (an empty ``HyperParameters()`` builds exactly
the given autoencoder)::

    filters_1, filters_2   filters of encoder stages 1 and 2: 1x, 2x, 4x the given (8, 12)
    convs_per_stage        1 or 2 Conv2D per stage                      (default 1)
    kernel_size            3 or 5                                       (default 3)
    pooling                "max", "avg", "none" or "stride"             (default "max")
    latent_channels        filters of the last stage = latent channels  (default 16)
                           when the stages shrink: 4 ... 64
    latent_channels_unpooled   the same when pooling is "none": 1, 2, 4
    latent_activation      "relu" or "linear" (a linear bottleneck)     (default "relu")
    residual               with 2 convs per stage: a residual addition  (default False)
    learning_rate          Adam's, log-uniform in [1e-4, 1e-2]          (default 1e-3)

``stride``, ``latent_activation`` and ``residual`` joined the space after
chapter 2 measured that strided, residual stages with a linear bottleneck
compress best (:data:`cae_lib.experiments.COMPRESSOR`).

The number of stages is fixed at three. **Latent budget**: left alone, a search
simply picks the largest latent representation (the more values the encoder
keeps, the better it reconstructs). ``latent_budget=N`` restricts the search to
architectures whose latent size (:attr:`cae_lib.models.CAESpec.latent_size`,
computed by :mod:`cae_lib.latent`) is at most ``N`` values; 1024 is the given
network's. The budget is built into the space: the latent-channel choices are
conditional on the pooling choice (keras-tuner's ``conditional_scope``) and
only list the channel counts that fit, so an over-budget architecture can never
be sampled, let alone built or trained. As a safety net (e.g. a value forced
with ``hp.Fixed``), :meth:`CAEHyperModel.build` raises
:class:`LatentBudgetError`, a ``keras_tuner.errors.FailedTrialError``, before
building anything; keras-tuner then records the trial as ``FAILED`` without
training or retrying it.

:func:`search` runs a Hyperband, random or Bayesian search on the validation
split of :func:`cae_lib.tasks.task_data` and returns a :class:`SearchResult`: a
table of all trials and the best architecture as a
:class:`cae_lib.training.RunConfig`, which :func:`cae_lib.training.run` trains on the
training set and evaluates on the test set like any other model. The
**objective is** ``val_mse``, the validation mean squared error, tracked as a
metric whatever the loss (so searches with different losses compare on the
same scale; with the default ``loss="mse"`` it equals ``val_loss``).

Searches are stored in the run cache, ``cae_lib.cache.cache_root() / "tuner" /
"<name>-<hash>"``, where the hash covers the search's settings, the search
space, the data fingerprint and :data:`cae_lib.training.CACHE_STAMP` (but not
``max_trials``: raising it extends a finished search). With ``overwrite=False``
(the default) an interrupted search resumes: finished trials are kept, the one
that was running is run again, and the search goes on up to ``max_trials``.

Distributed search (keras-tuner's own mode: one chief holds the oracle, every
worker asks it for trials, trains them and reports back over gRPC). Start the
same command on every machine, with the same data (``CAE_DATA``) and the same
cache folder (``CAE_CACHE``, a folder all machines share, e.g. over NFS:
Hyperband continues trials from checkpoints that other workers wrote; random
and Bayesian searches also work with one local folder per machine)::

    # the chief: serves the oracle on port 8000, on loopback only, and trains nothing
    KERASTUNER_TUNER_ID=chief KERASTUNER_ORACLE_IP=127.0.0.1 KERASTUNER_ORACLE_PORT=8000 \\
        python -m cae_lib tune latent_search --kind hyperband --budget 1024

    # each worker (tuner0, tuner1, ...) reaches it through an SSH tunnel to the chief's machine
    ssh -N -L 8000:127.0.0.1:8000 chief-host &
    KERASTUNER_TUNER_ID=tuner0 KERASTUNER_ORACLE_IP=127.0.0.1 KERASTUNER_ORACLE_PORT=8000 \\
        python -m cae_lib tune latent_search --kind hyperband --budget 1024

keras-tuner's oracle has no authentication: anyone who reaches its port can
take trials and report scores. The chief therefore refuses an address other
machines can reach unless ``CAE_TUNER_TRUST_NETWORK=1`` says the network is
private, and it checks every reported trial against the search space and the
latent budget (a trial outside them is recorded as ``REJECTED`` and never
becomes the best); a stored search's best trial is checked again when it loads.

    # one machine with two GPUs: the chief and one worker per GPU
    export KERASTUNER_ORACLE_IP=127.0.0.1 KERASTUNER_ORACLE_PORT=8000
    KERASTUNER_TUNER_ID=chief python -m cae_lib tune latent_search &
    CUDA_VISIBLE_DEVICES=0 KERASTUNER_TUNER_ID=tuner0 python -m cae_lib tune latent_search &
    CUDA_VISIBLE_DEVICES=1 KERASTUNER_TUNER_ID=tuner1 python -m cae_lib tune latent_search &
    wait

The chief returns when every trial has ended; its result (and its
``results.json``) holds all trials. Running the same command afterwards
without the ``KERASTUNER_*`` variables reloads the finished search and prints
it without training. Workers never delete a search (``overwrite`` is ignored
there); to start over, run the chief with ``--overwrite`` before the workers.
To train one trial on several GPUs instead, pass a ``tf.distribute`` strategy
(``search(..., strategy=tf.distribute.MirroredStrategy())``).

Importing this package imports keras-tuner (and with it TensorFlow).

Example:
    >>> import keras_tuner as kt
    >>> from cae_lib.models import CAESpec
    >>> hypermodel = CAEHyperModel(latent_budget=1024)
    >>> hypermodel.spec_for(kt.HyperParameters()) == CAESpec()
    True
    >>> hypermodel.latent_channel_choices
    {'max': (4, 8, 12, 16), 'avg': (4, 8, 12, 16), 'none': (1,), 'stride': (4, 8, 12, 16)}

Usage (trains)::

    result = search("latent", kind="random", profile="smoke")
    training.run(result.best)
"""

import importlib

from cae_lib.tuning import report, space
from cae_lib.tuning.report import *  # noqa: F403
from cae_lib.tuning.search import *  # noqa: F403  (binds search to the function, not the module)
from cae_lib.tuning.space import *  # noqa: F403

__all__ = [*space.__all__, *importlib.import_module("cae_lib.tuning.search").__all__, *report.__all__]
