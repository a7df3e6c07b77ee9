"""Codecs compared in bits: cached curves, BD-rates against each classical codec, the mirror's JPEG bias.

What the compression chapter computes, from codec objects (:mod:`cae_lib.codecs`):

- :func:`codec_records`: :func:`cae_lib.codecs.measure` of many codecs on one
  test set, computed once and kept in the cache (:func:`cae_lib.cache.memo`),
  keyed by the data, the test images, the codecs' labels and an identity the
  caller gives (library versions, run keys);
- :func:`images_data`: a reconstruction task's data whose test part is other
  images (the photographs' tiles, never JPEG-coded);
- :func:`payload_curve`: JPEG's curve at its entropy-coded scan alone;
- :func:`bd_rates`: the Bjontegaard delta rate (:func:`cae_lib.bdrate.bd_rate`)
  of one curve against each other one, where they overlap;
- :func:`jpeg_bias`: JPEG on the mirror against JPEG on images that never were
  JPEG, quality by quality (the mirror is JPEG at quality 75, so JPEG near
  that quality nearly reproduces the file it came from);
- :func:`nearest_rows`: each family's point nearest a rate, for pictures at equal bits;
- :func:`blog_verdict`: whether the learned codec beats JPEG, in words.

Example:
    >>> rows = [{"family": "A", "bpp": b, "psnr_global_db": 20 + 5 * b} for b in (1, 2, 3, 4)]
    >>> rows += [{"family": "B", "bpp": b / 2, "psnr_global_db": 20 + 5 * b} for b in (1, 2, 3, 4)]
    >>> [(r["anchor"], round(r["bd_rate_pct"], 1)) for r in bd_rates(rows, "B")]
    [('A', -50.0)]
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping, Sequence

import numpy as np

from cae_lib import bdrate
from cae_lib.codecs.base import by_family, measure

__all__ = ["codec_records", "images_data", "payload_curve", "bd_rates", "bd_table", "bd_text", "strongest",
           "smallest_bpp", "header_bpp", "jpeg_bias", "nearest_rows", "blog_verdict", "estimate_columns",
           "agreement_rows", "agreement_facts", "latent_bits_rows", "as_they_are", "run_rows", "equal_bits_images",
           "photo_round_trip", "library_versions"]


def _to_arrays(rows: Sequence[Mapping]) -> dict[str, np.ndarray]:
    columns = list(dict.fromkeys(k for row in rows for k in row))
    out = {}
    for col in columns:
        values = [row.get(col) for row in rows]
        if all(isinstance(v, str) for v in values):
            out[col] = np.array(values, dtype=str)
        else:
            out[col] = np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64)
    return out


def _to_rows(arrays: Mapping[str, np.ndarray]) -> list[dict]:
    n = len(next(iter(arrays.values())))
    rows = []
    for i in range(n):
        row = {}
        for col, values in arrays.items():
            v = values[i]
            row[col] = str(v) if values.dtype.kind == "U" else (None if np.isnan(v) else float(v))
        if row.get("latent_size") is not None:
            row["latent_size"] = int(row["latent_size"])
        rows.append(row)
    return rows


def codec_records(codecs: Sequence, data, *, name: str, identity: Mapping | None = None, extra=None,
                  cache_dir=None) -> list[dict]:
    """:func:`~cae_lib.codecs.measure` of each codec on ``data``'s test part, cached.

    Args:
        codecs: the codecs (their labels must be distinct: they are part of the key).
        data: a reconstruction task's :class:`~cae_lib.tasks.TaskData`.
        name: the cache entry's name.
        identity: what else the results depend on (library versions, run keys), JSON-ready; a codec's
            ``digest`` (the learned codec's weights and tables) is part of the key by itself.
        extra: ``extra(codec, data) -> dict`` of more columns per record (numbers), or ``None``.
        cache_dir: the cache (default :func:`cae_lib.cache.cache_root`).

    Returns:
        One record per codec, in order.

    Raises:
        ValueError: two codecs share a label.
    """
    from cae_lib import cache

    labels = [c.label() for c in codecs]
    if len(set(labels)) != len(labels):
        raise ValueError(f"codec labels must be distinct (they key the cache): {labels}")
    test = hashlib.sha256(np.ascontiguousarray(data.x_test, dtype=np.float32).tobytes()).hexdigest()

    def compute():
        rows = []
        for codec in codecs:
            row = measure(codec, data)
            if extra is not None:
                row.update(extra(codec, data))
            rows.append(row)
        return _to_arrays(rows)

    digests = [c.digest.hex() for c in codecs if isinstance(getattr(c, "digest", None), bytes)]  # weights, tables
    stored = cache.memo(name, {**data.key_fields(), "test": test, "codecs": labels, "digests": digests,
                               "identity": dict(identity or {})},
                        compute, cache_dir=cache_dir, what="cached codec measurements")
    return _to_rows(stored)


def images_data(data, images: np.ndarray):
    """A view of reconstruction ``data`` whose test part is the uint8 ``images`` (inputs and targets alike).

    The view's test indices are negative: no image of the pooled data.

    Raises:
        ValueError: ``images`` is not a uint8 batch ``(N, H, W, C)``.
    """
    from cae_lib.data import to_float

    images = np.asarray(images)
    if images.ndim != 4 or images.dtype != np.uint8 or not len(images):
        raise ValueError(f"images must be a non-empty uint8 batch (N, H, W, C), got {images.dtype} {images.shape}")
    x = to_float(images)
    return dataclasses.replace(data, x_test=x, y_test=x, test_index=-np.arange(1, len(images) + 1, dtype=np.int64))


def payload_curve(rows: Sequence[Mapping], family: str, label: str | None = None) -> list[dict]:
    """The records of ``family`` with ``bpp`` replaced by their payload's (``bpp_payload``), as family ``label``."""
    label = label or f"{family}, payload alone"
    return [{**row, "bpp": row["bpp_payload"], "family": label} for row in rows if row["family"] == family]


def bd_rates(rows: Sequence[Mapping], test: str, anchors: Sequence[str] | None = None, *, rate: str = "bpp",
             y: str = "psnr_global_db", rate_range: tuple[float, float] | None = None) -> list[dict]:
    """The BD-rate of family ``test`` against each anchor family, where both have enough points in range.

    Returns:
        One row per anchor: ``{"anchor", "bd_rate_pct", "common_from_db", "common_to_db", "points"}``; an
        anchor whose curve cannot be compared (too few points in ``rate_range``, no overlap) gets
        ``bd_rate_pct`` ``None`` and the reason in ``"note"``.
    """
    curves = by_family(rows)
    if test not in curves:
        raise ValueError(f"no records of family {test!r}; families: {sorted(curves)}")
    anchors = [a for a in curves if a != test] if anchors is None else list(anchors)
    t = curves[test]
    out = []
    for anchor in anchors:
        if anchor not in curves:
            raise ValueError(f"no records of family {anchor!r}; families: {sorted(curves)}")
        a = curves[anchor]
        row = {"anchor": anchor, "bd_rate_pct": None, "note": ""}
        try:
            row["bd_rate_pct"] = bdrate.bd_rate([r[rate] for r in a], [r[y] for r in a], [r[rate] for r in t],
                                                [r[y] for r in t], rate_range=rate_range)
        except ValueError as exc:
            row["note"] = str(exc)
        out.append(row)
    return out


def bd_table(rows: Sequence[Mapping], test: str, anchors: Sequence[str], rate_range: tuple[float, float]) -> list[dict]:
    """BD-rates of ``test`` against each anchor over every point of both curves and over ``rate_range`` alone.

    Returns:
        One row per anchor: ``{"anchor", "bd_rate_pct", "bd_rate_range_pct", "note"}`` (``None`` where a
        figure cannot be computed, the reason in ``note``).

    Example:
        >>> rows = [{"family": "A", "bpp": b, "psnr_global_db": 20 + 5 * b} for b in (1, 2, 3, 4, 5)]
        >>> rows += [{"family": "B", "bpp": b / 2, "psnr_global_db": 20 + 5 * b} for b in (1, 2, 3, 4, 5)]
        >>> [round(bd_table(rows, "B", ["A"], (0.5, 4))[0][k], 1) for k in ("bd_rate_pct", "bd_rate_range_pct")]
        [-50.0, -50.0]
    """
    whole = bd_rates(rows, test, anchors)
    ranged = bd_rates(rows, test, anchors, rate_range=rate_range)
    out = []
    for a, r in zip(whole, ranged):
        notes = [f"all points: {a['note']}" if a["note"] else "",
                 f"{rate_range[0]:g} to {rate_range[1]:g} bpp: {r['note']}" if r["note"] else ""]
        out.append({"anchor": a["anchor"], "bd_rate_pct": a["bd_rate_pct"], "bd_rate_range_pct": r["bd_rate_pct"],
                    "note": "; ".join(n for n in notes if n)})
    return out


def strongest(table: Sequence[Mapping], column: str = "bd_rate_pct") -> dict:
    """The anchor the learned codec needs most extra bits against (largest BD-rate), as prose.

    Example:
        >>> strongest([{"anchor": "A", "bd_rate_pct": 5.0}, {"anchor": "B", "bd_rate_pct": 40.0}])["strongest"]
        'B (the learned codec needs +40.0 % bits against it)'
    """
    known = [r for r in table if r.get(column) is not None]
    if not known:
        return {"strongest": "not measurable here (no curve overlaps the learned codec's)"}
    top = max(known, key=lambda r: r[column])
    verb = "needs" if top[column] > 0 else "saves"
    return {"strongest": f"{top['anchor']} (the learned codec {verb} {bd_text(top[column])} bits against it)"}


def smallest_bpp(rows: Sequence[Mapping], family: str, rate: str = "bpp") -> float:
    """The lowest rate any point of ``family`` reaches (a container's floor, for the classical codecs).

    Example:
        >>> smallest_bpp([{"family": "A", "bpp": 3.0}, {"family": "A", "bpp": 2.5}, {"family": "B", "bpp": 1.0}], "A")
        2.5
    """
    rates = [r[rate] for r in rows if r["family"] == family]
    if not rates:
        raise ValueError(f"no records of family {family!r}")
    return float(min(rates))


def header_bpp(rows: Sequence[Mapping], family: str) -> float:
    """The bits per pixel a family's files spend beyond their payload (headers, tables), on average over its points.

    Example:
        >>> header_bpp([{"family": "JPEG", "bpp": 5.5, "bpp_payload": 0.5}, {"family": "JPEG", "bpp": 7.0,
        ...             "bpp_payload": 2.0}], "JPEG")
        5.0
    """
    extra = [r["bpp"] - r["bpp_payload"] for r in rows if r["family"] == family]
    if not extra:
        raise ValueError(f"no records of family {family!r}")
    return float(np.mean(extra))


def jpeg_bias(mirror, clean, qualities: Sequence[int] = (50, 75, 90)) -> list[dict]:
    """JPEG at each quality on the mirror's test images and on clean images (two reconstruction TaskData).

    Returns:
        One row per quality: ``{"quality", "mirror_bpp", "mirror_psnr_db", "clean_bpp", "clean_psnr_db"}``.
    """
    from cae_lib.codecs.classical import JPEG

    out = []
    for q in qualities:
        m, c = measure(JPEG(q), mirror), measure(JPEG(q), clean)
        out.append({"quality": int(q), "mirror_bpp": m["bpp"], "mirror_psnr_db": m["psnr_global_db"],
                    "clean_bpp": c["bpp"], "clean_psnr_db": c["psnr_global_db"]})
    return out


def nearest_rows(rows: Sequence[Mapping], at: float, *, rate: str = "bpp") -> dict[str, dict]:
    """Each family's record whose ``rate`` is nearest ``at`` (on a log scale)."""
    return {family: min(curve, key=lambda r: abs(np.log(r[rate] / at))) for family, curve in by_family(rows).items()}


def bd_text(pct: float | None, note: str = "") -> str:
    """A BD-rate as prose: ``"-12.3 %"``, or why it could not be computed.

    Example:
        >>> bd_text(-12.34), bd_text(None)
        ('−12.3 %', 'not computable here (the curves do not overlap enough between the rates compared)')
    """
    if pct is None:
        return "not computable here (the curves do not overlap enough between the rates compared)"
    return f"{pct:+.1f} %".replace("-", "−")


def blog_verdict(whole_pct: float | None, payload_pct: float | None) -> dict:
    """The Keras blog's claim ("pretty difficult to train an autoencoder that does a better job than JPEG") judged.

    Args:
        whole_pct: BD-rate (%) of the learned codec against JPEG's whole files.
        payload_pct: the same against JPEG's entropy-coded scan alone.

    Returns:
        ``{"blog_verdict"}``: a sentence, from the signs of the two BD-rates.

    Example:
        >>> blog_verdict(-70.0, -10.0)["blog_verdict"][:24]
        'The claim does not hold '
    """
    if whole_pct is None or payload_pct is None:
        return {"blog_verdict": "The curves do not overlap enough to judge the claim on these images."}
    if payload_pct < 0:
        text = ("The claim does not hold here: the learned codec needs fewer bits than JPEG at equal PSNR, "
                "against JPEG's whole files and even against its entropy-coded scan alone.")
    elif whole_pct < 0:
        text = ("The claim holds only in part: the learned codec beats JPEG's whole files, whose headers dominate "
                "on 32x32 images, but not JPEG's entropy-coded scan alone.")
    else:
        text = "The claim holds here: JPEG needs fewer bits than the learned codec at equal PSNR."
    return {"blog_verdict": text}


def estimate_columns(codec, data) -> dict:
    """The extra record columns of a codec that estimates its own rate: ``bpp_estimated`` and ``decodes_exactly``.

    ``bpp_estimated`` is the density's ideal code length of the payload per
    pixel (no header); ``decodes_exactly`` is 1.0 when decoding every test
    image's bytes gives exactly the codec's own reconstruction, else 0.0.
    For a codec without ``estimated_bits``, nothing.
    """
    if not hasattr(codec, "estimated_bits"):
        return {}
    from cae_lib.data import to_uint8

    images = to_uint8(data.x_test)
    n, h, w = images.shape[:3]
    exact = bool(np.array_equal(codec.decode(codec.encode(images), images.shape[1:]), codec.reconstruct(images)))
    return {"bpp_estimated": float(codec.estimated_bits(images).sum() / (n * h * w)), "decodes_exactly": float(exact)}


def agreement_rows(records: Sequence[Mapping]) -> list[dict]:
    """Real payload bits against the estimated ones, per record that has both.

    Returns:
        ``{"codec", "bpp_estimated", "bpp_payload", "bpp", "payload / estimate", "file / (estimate + header)",
        "decodes exactly"}`` rows; the header is the whole file less the payload.
    """
    out = []
    for r in records:
        if r.get("bpp_estimated") is None:
            continue
        header = r["bpp"] - r["bpp_payload"]
        out.append({"codec": r["codec"], "bpp_estimated": r["bpp_estimated"], "bpp_payload": r["bpp_payload"],
                    "bpp": r["bpp"], "payload / estimate": r["bpp_payload"] / r["bpp_estimated"],
                    "file / (estimate + header)": r["bpp"] / (r["bpp_estimated"] + header),
                    "decodes exactly": "yes" if r["decodes_exactly"] == 1.0 else "no"})
    return out


def latent_bits_rows(floats: Sequence[Mapping], quantized: Sequence[Mapping]) -> list[dict]:
    """Chapter-2 models as codecs: float32 latents beside the same latents quantized and entropy-coded.

    Args:
        floats: :class:`~cae_lib.codecs.latent.LatentCodec` records, one per model.
        quantized: :class:`~cae_lib.codecs.quantized.QuantizedLatent` records of the same models, in order.
    """
    if len(floats) != len(quantized):
        raise ValueError(f"one quantized record per float record: {len(floats)} and {len(quantized)}")
    return [{"model": f["codec"], "latent values": f["latent_size"], "float32 bpp": f["bpp"],
             "float32 PSNR (dB)": f["psnr_global_db"], "quantized bpp": q["bpp"],
             "quantized PSNR (dB)": q["psnr_global_db"], "bits saved": 1.0 - q["bpp"] / f["bpp"]}
            for f, q in zip(floats, quantized)]


def agreement_facts(agreement: Sequence[Mapping], n_images: int) -> dict:
    """What the prose says of :func:`agreement_rows`: the worst file-to-estimate ratio and whether all decode exactly.

    Example:
        >>> rows = [{"codec": "a", "file / (estimate + header)": 1.01, "decodes exactly": "yes"},
        ...         {"codec": "b", "file / (estimate + header)": 1.05, "decodes exactly": "yes"}]
        >>> facts = agreement_facts(rows, 10)
        >>> facts["worst_file_codec"], facts["exact_sentence"][:30]
        ('b', 'Decoding every one of the 10 t')
    """
    if not agreement:
        raise ValueError("no codec estimates its rate")
    worst = max(agreement, key=lambda r: abs(r["file / (estimate + header)"] - 1))
    exact = all(r["decodes exactly"] == "yes" for r in agreement)
    sentence = (f"Decoding every one of the {n_images:,} test files of every codec gives back exactly the "
                "encoder's reconstruction." if exact else
                "Not every file decodes to exactly the encoder's reconstruction (see the last column).")
    return {"worst_file_ratio": worst["file / (estimate + header)"], "worst_file_codec": worst["codec"],
            "exact_sentence": sentence}


def as_they_are(models: Mapping[str, object], data, bits: int = 8) -> tuple[list[dict], list[dict]]:
    """Autoencoders as codecs: float32 latents, and the same latents at ``bits`` per value, entropy-coded.

    Args:
        models: ``{name: trained model}`` without skip connections.
        data: the reconstruction task's data (the ranges and tables are measured on its training part).
        bits: bits per latent value before entropy coding.

    Returns:
        ``(quantized_records, rows)``: the :func:`~cae_lib.codecs.measure` records of the quantized
        codecs, and :func:`latent_bits_rows` of both.
    """
    from cae_lib.codecs.latent import LatentCodec
    from cae_lib.codecs.quantized import QuantizedLatent

    floats = [measure(LatentCodec(model, name), data) for name, model in models.items()]
    quantized = [measure(QuantizedLatent.fit(model, data.x_train, bits=bits, label=name), data)
                 for name, model in models.items()]
    return quantized, latent_bits_rows(floats, quantized)


def run_rows(results: Mapping[str, object], lambdas: Mapping[str, float]) -> list[dict]:
    """One row per rate-distortion run: its lambda, epochs, training time and the run's own test PSNR."""
    return [{"run": name, "lambda": lambdas[name], "epochs": r.epochs_run, "training time (min)": r.train_seconds / 60,
             "test PSNR of the run (dB)": r.test_metrics["psnr_global_db"]} for name, r in results.items()]


def equal_bits_images(codecs: Sequence, rows: Sequence[Mapping], images: np.ndarray, at: float) -> dict:
    """Each family's codec nearest ``at`` bits per pixel applied to uint8 ``images``: ``{label: decoded}``.

    A label is the family and the rate on two lines (``"JPEG\n5.11 bpp"``), short enough for a figure's row.
    """
    by_label = {c.label(): c for c in codecs}
    out = {}
    for family, row in nearest_rows(rows, at).items():
        codec = by_label[row["codec"]]
        name = family.split(" (")[0].split(",")[0]
        out[f"{name}\n{row['bpp']:.2f} bpp"] = codec.decode(codec.encode(images), images.shape[1:])
    return out


def photo_round_trip(codec, image: np.ndarray) -> tuple[np.ndarray, dict]:
    """One uint8 RGB photograph through a learned codec's file: ``(decoded, facts)``.

    ``facts``: ``photo_bytes``, ``photo_bpp``, ``photo_psnr`` (dB), ``photo_side`` (height x width, text) and
    ``photo_exact`` ("it does" / "it does not": the decoded file equals the encoder's reconstruction).
    """
    from cae_lib.metrics import psnr_global

    (data,) = codec.encode(image[None])
    decoded = codec.decode([data])[0]
    exact = np.array_equal(decoded, codec.reconstruct(image[None])[0])
    h, w = image.shape[:2]
    return decoded, {"photo_bytes": len(data), "photo_bpp": 8 * len(data) / (h * w),
                     "photo_psnr": psnr_global(image[None] / np.float32(255), decoded[None]),
                     "photo_side": f"{w}×{h}", "photo_exact": "it does" if exact else "it does not"}


def library_versions(packages: Sequence[str] = ("imagecodecs", "constriction")) -> dict[str, str]:
    """The installed versions of the coding libraries, for the cache keys of codec records.

    Example:
        >>> sorted(library_versions())
        ['constriction', 'imagecodecs']
    """
    import importlib.metadata

    return {p: importlib.metadata.version(p) for p in packages}
