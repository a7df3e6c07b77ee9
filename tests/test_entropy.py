"""cae_lib.entropy: exact round trips, and real byte counts against the ideal code length computed here with NumPy."""

import numpy as np
import pytest
from scipy import stats

from cae_lib.entropy import MIN_PROBABILITY, LaplaceCoder, SymbolTables

# the range coder's overhead on a long message: its probabilities are quantized (constriction: 24 bits)
# and the last word is flushed, so a few percent of slack would hide a broken coder; 1% + 8 bytes does not
LONG_REL, LONG_BYTES = 0.01, 8


def _normalised(table):
    """The table a SymbolTables keeps: normalised, floored at MIN_PROBABILITY, normalised again (here, by hand)."""
    t = np.asarray(table, np.float64)
    t = np.maximum(t / t.sum(), MIN_PROBABILITY)
    return t / t.sum()


def _ideal_bits(symbols, lo, raw_tables):
    """-sum log2 p of symbols (channels, n), from the counted symbol frequencies and the raw tables."""
    total = 0.0
    for c, s in enumerate(symbols):
        values, counts = np.unique(s, return_counts=True)
        p = _normalised(raw_tables[c])[values - lo[c]]
        total -= float(np.sum(counts * np.log2(p)))
    return total


def _random_tables(rng, channels, size):
    lo = rng.integers(-6, 6, channels)
    tables = tuple(rng.dirichlet(np.full(size, rng.choice([0.2, 1.0, 10.0]))) for _ in range(channels))
    return lo, tables


def _draw(rng, lo, tables, n):
    return np.stack([rng.choice(len(t), n, p=_normalised(t)) + lo[c] for c, t in enumerate(tables)])


# --------------------------------------------------------------------------- SymbolTables: construction


def test_tables_are_normalised_and_floored():
    tables = SymbolTables(np.array([-2, 5]), (np.array([2.0, 6.0, 0.0]), np.array([1.0, 1.0])))
    assert tables.channels == 2 and tables.lo.dtype == np.int64
    np.testing.assert_array_equal(tables.hi, [0, 6])
    np.testing.assert_allclose(tables.tables[0], _normalised([0.25, 0.75, 0.0]), rtol=1e-12)
    assert tables.tables[0][2] == pytest.approx(MIN_PROBABILITY, rel=1e-6)  # an unseen symbol stays codable
    np.testing.assert_allclose([t.sum() for t in tables.tables], 1.0, rtol=1e-12)


def test_fit_counts_with_the_prior_over_each_channels_span():
    symbols = np.array([[0, 1, 1, 2, 1, 1], [-3, -3, 4, 4, 4, 0]])
    tables = SymbolTables.fit(symbols, prior=0.5)
    np.testing.assert_array_equal(tables.lo, [0, -3])
    np.testing.assert_array_equal(tables.hi, [2, 4])
    # counts by hand: channel 0 -> 0:1, 1:4, 2:1; channel 1 over -3..4 -> -3:2, 0:1, 4:3
    np.testing.assert_allclose(tables.tables[0], _normalised(np.array([1, 4, 1]) + 0.5), rtol=1e-12)
    expected = np.array([2, 0, 0, 1, 0, 0, 0, 3]) + 0.5
    np.testing.assert_allclose(tables.tables[1], _normalised(expected), rtol=1e-12)


def test_fit_with_a_support_covers_it_for_every_channel():
    symbols = np.array([[2, 2, 3], [5, 6, 6]])
    tables = SymbolTables.fit(symbols, support=(0, 7), prior=1.0)
    np.testing.assert_array_equal(tables.lo, [0, 0])
    np.testing.assert_array_equal(tables.hi, [7, 7])
    np.testing.assert_allclose(tables.tables[1], _normalised(np.bincount([5, 6, 6], minlength=8) + 1.0), rtol=1e-12)
    # every symbol of the support is codable, also the ends never seen in training
    edge = np.array([[0, 7, 0, 7], [7, 0, 0, 7]])
    assert np.array_equal(tables.decode(tables.encode(edge), 4), edge)
    with pytest.raises(ValueError, match="outside the support"):
        SymbolTables.fit(symbols, support=(3, 7))
    with pytest.raises(ValueError, match="outside the support"):
        SymbolTables.fit(symbols, support=(0, 5))


def test_clip_brings_symbols_into_each_channels_support():
    tables = SymbolTables(np.array([-1, 3]), (np.ones(3), np.ones(5)))  # supports -1..1 and 3..7
    symbols = np.arange(-4, 10).reshape(1, 1, -1).repeat(2, 0).repeat(2, 1)  # (channels, 2, 14)
    out = tables.clip(symbols)
    assert out.shape == symbols.shape and out.dtype == np.int64
    np.testing.assert_array_equal(out[0], np.minimum(np.maximum(symbols[0], -1), 1))
    np.testing.assert_array_equal(out[1], np.minimum(np.maximum(symbols[1], 3), 7))
    np.testing.assert_array_equal(tables.clip(np.array([[5], [5]])), [[1], [5]])


# --------------------------------------------------------------------------- SymbolTables: coding


def test_bits_is_the_ideal_code_length():
    rng = np.random.default_rng(3)
    lo, raw = _random_tables(rng, 3, 6)
    tables = SymbolTables(lo, raw)
    symbols = _draw(rng, lo, raw, 200)
    assert tables.bits(symbols) == pytest.approx(_ideal_bits(symbols, lo, raw), rel=1e-12)
    # one symbol of probability 1/2 costs one bit
    half = SymbolTables(np.array([0]), (np.array([1.0, 1.0]),))
    assert half.bits(np.array([[0, 1, 1]])) == pytest.approx(3.0, rel=1e-6)


def test_round_trip_is_exact_for_many_random_cases():
    rng = np.random.default_rng(0)
    for _ in range(400):
        channels, size, n = int(rng.integers(1, 5)), int(rng.integers(2, 9)), int(rng.integers(0, 80))
        lo, raw = _random_tables(rng, channels, size)
        tables = SymbolTables(lo, raw)
        symbols = _draw(rng, lo, raw, n)
        data = tables.encode(symbols)
        assert isinstance(data, bytes)
        out = tables.decode(data, n)
        assert out.dtype == np.int64 and out.shape == (channels, n)
        np.testing.assert_array_equal(out, symbols)


def test_round_trip_at_the_edges_of_the_support():
    tables = SymbolTables(np.array([-3, 10]), (np.ones(4), np.array([1.0, 1e-12, 1e-12, 5.0])))
    lo, hi = tables.lo[:, None], tables.hi[:, None]
    for pattern in ([0, 0, 0], [1, 1, 1], [0, 1, 0, 1, 1], [1, 0]):
        pick = np.array(pattern, bool)
        symbols = np.where(pick, hi, lo)  # only the smallest and largest symbol of each channel
        np.testing.assert_array_equal(tables.decode(tables.encode(symbols), len(pattern)), symbols)
    # a symbol at the floor probability still decodes
    rare = np.array([[-3, 0, -3], [11, 12, 11]])
    np.testing.assert_array_equal(tables.decode(tables.encode(rare), 3), rare)


def test_trailing_zero_bytes_are_dropped_and_restored():
    # a nearly certain symbol: its code is all zero bits, every byte of it is dropped
    sure = SymbolTables(np.array([0]), (np.array([1.0, 1e-9]),))
    for n in (0, 1, 7, 1000):
        data = sure.encode(np.zeros((1, n), np.int64))
        assert data == b""
        np.testing.assert_array_equal(sure.decode(data, n), np.zeros((1, n)))
    # random messages of every length up to 300: each decodes exactly, also with the dropped zeros put back
    rng = np.random.default_rng(1)
    skewed = SymbolTables(np.array([0, -1]), (np.array([0.97, 0.01, 0.01, 0.01]), np.array([0.9, 0.1])))
    uniform = SymbolTables(np.array([0]), (np.ones(256),))
    lengths = []
    for tables in (skewed, uniform):
        for n in range(300):
            symbols = _draw(rng, tables.lo, tables.tables, n)
            data = tables.encode(symbols)
            assert not data.endswith(b"\0")
            lengths.append(len(data))
            np.testing.assert_array_equal(tables.decode(data, n), symbols)
            np.testing.assert_array_equal(tables.decode(data + b"\0" * (n % 9), n), symbols)
    for _ in range(3000):  # short messages: a last word whose top byte is zero now and then (about 1 in 256)
        n = int(rng.integers(1, 9))
        symbols = rng.integers(0, 256, (1, n))
        data = uniform.encode(symbols)
        lengths.append(len(data))
        np.testing.assert_array_equal(uniform.decode(data, n), symbols)
    assert any(length % 4 for length in lengths)  # not padded to whole 32-bit words


def test_empty_messages():
    tables = SymbolTables(np.array([0, 0]), (np.ones(3), np.ones(2)))
    data = tables.encode(np.zeros((2, 0), np.int64))
    assert data == b"" and tables.bits(np.zeros((2, 0), np.int64)) == 0.0
    assert tables.decode(data, 0).shape == (2, 0)


def test_fitted_tables_code_their_own_symbols():
    symbols = np.array([[4, 4, 5, 4, 6, 4]])
    tables = SymbolTables.fit(symbols)
    np.testing.assert_array_equal(tables.decode(tables.encode(symbols), symbols.shape[1]), symbols)


def test_a_single_symbol_channel_can_be_coded():
    symbols = np.array([[3, 3, 3, 3], [0, 1, 1, 0]])
    tables = SymbolTables.fit(symbols)  # channel 0 never varies: its table gets a second, unused symbol
    assert len(tables.tables[0]) == 2 and tables.tables[0][0] > 0.999
    np.testing.assert_array_equal(tables.decode(tables.encode(symbols), 4), symbols)


@pytest.mark.parametrize("seed", range(3))
def test_real_bytes_are_close_to_the_ideal_length_for_long_messages(seed):
    rng = np.random.default_rng(seed)
    lo, raw = _random_tables(rng, 4, 12)
    tables = SymbolTables(lo, raw)
    symbols = _draw(rng, lo, raw, 5000)
    ideal = _ideal_bits(symbols, lo, raw) / 8
    size = len(tables.encode(symbols))
    assert abs(size - ideal) <= LONG_REL * ideal + LONG_BYTES, (size, ideal)


def test_fitted_tables_code_their_training_symbols_at_the_empirical_entropy():
    rng = np.random.default_rng(5)
    symbols = np.stack([rng.geometric(0.3, 20000) - 1, rng.integers(-5, 6, 20000)])
    tables = SymbolTables.fit(symbols)
    # the empirical entropy, by hand: -sum n_k log2(n_k / n) per channel (the prior barely moves it)
    entropy = 0.0
    for s in symbols:
        _, counts = np.unique(s, return_counts=True)
        entropy -= float(np.sum(counts * np.log2(counts / counts.sum())))
    assert tables.bits(symbols) == pytest.approx(entropy, rel=1e-3)
    size = len(tables.encode(symbols))
    assert abs(8 * size - entropy) <= LONG_REL * entropy + 8 * LONG_BYTES


def test_arrays_round_trip(tmp_path):
    rng = np.random.default_rng(2)
    tables = SymbolTables(np.array([-4, 0, 9]), tuple(rng.random(k) + 0.01 for k in (3, 7, 2)))
    arrays = tables.to_arrays()
    assert set(arrays) == {"lo", "sizes", "probabilities"}
    np.testing.assert_array_equal(arrays["sizes"], [3, 7, 2])
    np.savez(tmp_path / "t.npz", **arrays)
    with np.load(tmp_path / "t.npz", allow_pickle=False) as stored:
        back = SymbolTables.from_arrays(stored["lo"], stored["sizes"], stored["probabilities"])
    np.testing.assert_array_equal(back.lo, tables.lo)
    for a, b in zip(back.tables, tables.tables, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    symbols = np.array([[-4, -2, -3], [6, 0, 3], [10, 9, 9]])
    assert back.encode(symbols) == tables.encode(symbols)


def test_symbol_tables_refuse_bad_input():
    with pytest.raises(ValueError, match="one table per channel"):
        SymbolTables(np.array([0, 1]), (np.ones(2),))
    with pytest.raises(ValueError, match="one table per channel"):
        SymbolTables(np.array([], np.int64), ())
    for bad in (np.array([]), np.array([0.5, np.nan]), np.array([1.0, -0.1]), np.zeros(3), np.array([np.inf, 1])):
        with pytest.raises(ValueError, match="table 0 must hold"):
            SymbolTables(np.array([0]), (bad,))
    with pytest.raises(ValueError, match="integers of shape"):
        SymbolTables.fit(np.array([0, 1, 2]))
    with pytest.raises(ValueError, match="integers of shape"):
        SymbolTables.fit(np.array([[0.0, 1.0]]))
    with pytest.raises(ValueError, match="integers of shape"):
        SymbolTables.fit(np.zeros((2, 0), np.int64))
    with pytest.raises(ValueError, match="do not add up"):
        SymbolTables.from_arrays(np.array([0, 0]), np.array([2, 2]), np.ones(5))
    with pytest.raises(ValueError, match="do not add up"):
        SymbolTables.from_arrays(np.array([0, 0]), np.array([4, 0]), np.ones(4))

    tables = SymbolTables(np.array([0, -2]), (np.ones(3), np.ones(3)))  # supports 0..2 and -2..0
    for method in (tables.encode, tables.bits):
        with pytest.raises(ValueError, match=r"shape \(2, n\)"):
            method(np.zeros((3, 4), np.int64))
        with pytest.raises(ValueError, match=r"shape \(2, n\)"):
            method(np.zeros(4, np.int64))
        with pytest.raises(ValueError, match="outside the tables' support"):
            method(np.array([[0, 3], [0, 0]]))  # above channel 0's
        with pytest.raises(ValueError, match="outside the tables' support"):
            method(np.array([[0, 0], [-3, 0]]))  # below channel 1's
    with pytest.raises(ValueError, match="must be bytes"):
        tables.decode("abc", 2)


# --------------------------------------------------------------------------- LaplaceCoder


def _laplace_bits(symbols, scales, radius):
    """-sum log2 p with p the Laplace(0, b) mass of [k - 1/2, k + 1/2], the tails in the end bins (scipy)."""
    k, b = np.asarray(symbols, np.float64), np.asarray(scales, np.float64)
    upper = np.where(k == radius, 1.0, stats.laplace.cdf(k + 0.5, scale=b))
    lower = np.where(k == -radius, 0.0, stats.laplace.cdf(k - 0.5, scale=b))
    return float(-np.sum(np.log2(upper - lower)))


def test_laplace_bits_match_scipy():
    rng = np.random.default_rng(0)
    coder = LaplaceCoder(radius=20)
    scales = rng.uniform(0.2, 8.0, 500)
    symbols = coder.clip(np.rint(rng.laplace(0.0, scales)))
    assert coder.bits(symbols, scales) == pytest.approx(_laplace_bits(symbols, scales, 20), rel=1e-9)
    # the end bins hold the tails: a symbol at the radius costs -log2 P(X > r - 1/2)
    edge = coder.bits([20], [3.0])
    assert edge == pytest.approx(-np.log2(stats.laplace.sf(19.5, scale=3.0)), rel=1e-9)
    assert coder.bits([-20], [3.0]) == pytest.approx(edge, rel=1e-9)


def test_laplace_docstring_value_by_hand():
    s, b = np.array([0, 3, -8, 1]), np.array([0.5, 2.0, 4.0, 1.0])
    assert LaplaceCoder(radius=8).bits(s, b) == pytest.approx(_laplace_bits(s, b, 8), rel=1e-9)


def test_laplace_round_trip_many_cases():
    rng = np.random.default_rng(1)
    for _ in range(150):
        radius, n = int(rng.integers(1, 40)), int(rng.integers(0, 120))
        coder = LaplaceCoder(radius=radius)
        scales = np.exp(rng.uniform(np.log(0.02), np.log(30.0), n))
        symbols = coder.clip(np.rint(rng.laplace(0.0, scales)))
        symbols[: min(n, 2)] = [radius, -radius][: min(n, 2)]  # the end bins
        out = coder.decode(coder.encode(symbols, scales), scales)
        assert out.dtype == np.int64
        np.testing.assert_array_equal(out, symbols)


def test_laplace_encodes_any_shape_flattened():
    coder = LaplaceCoder(radius=5)
    symbols, scales = np.array([[1, -2], [0, 5]]), np.full((2, 2), 1.5)
    np.testing.assert_array_equal(coder.decode(coder.encode(symbols, scales), scales), symbols.reshape(-1))


def test_laplace_clip():
    coder = LaplaceCoder(radius=3)
    out = coder.clip(np.array([[-7, -3, 0], [2, 3, 40]]))
    assert out.dtype == np.int64
    np.testing.assert_array_equal(out, [[-3, -3, 0], [2, 3, 3]])


@pytest.mark.parametrize("scale", [0.3, 1.0, 6.0])
def test_laplace_real_bytes_are_close_to_the_ideal_length(scale):
    rng = np.random.default_rng(int(scale * 10))
    coder = LaplaceCoder(radius=64)
    scales = scale * rng.uniform(0.5, 2.0, 8000)
    symbols = coder.clip(np.rint(rng.laplace(0.0, scales)))
    ideal = _laplace_bits(symbols, scales, 64) / 8
    size = len(coder.encode(symbols, scales))
    assert abs(size - ideal) <= LONG_REL * ideal + LONG_BYTES, (size, ideal)


def test_laplace_refuses_bad_input():
    for radius in (0, -3):
        with pytest.raises(ValueError, match="positive integer"):
            LaplaceCoder(radius=radius)
    coder = LaplaceCoder(radius=4)
    with pytest.raises(ValueError, match="one scale per symbol"):
        coder.encode([0, 1, 2], [1.0, 1.0])
    with pytest.raises(ValueError, match="one scale per symbol"):
        coder.bits([0, 1], [1.0, 1.0, 1.0])
    for scales in ([1.0, 0.0], [1.0, -1.0], [1.0, np.nan], [np.inf, 1.0]):
        with pytest.raises(ValueError, match="positive and finite"):
            coder.encode([0, 1], scales)
    with pytest.raises(ValueError, match="beyond the radius"):
        coder.encode([0, 5], [1.0, 1.0])
    with pytest.raises(ValueError, match="beyond the radius"):
        coder.bits([-5], [1.0])
    with pytest.raises(ValueError, match="must be bytes"):
        coder.decode([1, 2, 3], [1.0])
