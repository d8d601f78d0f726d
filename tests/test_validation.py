"""The validation checks refit from a calibration's table of runs: leave-one-out predictions and
the coverage of the posterior's intervals, on a synthetic table where the answer is known."""

import numpy as np

from analysis.calibration.validation import ReferenceTable, coverage, leave_one_out


def synthetic_table(runs=3000, noise=0.3, seed=0) -> ReferenceTable:
    """Two parameters; figure a reads the first, b the second, total their sum: total is
    predictable from a and b, and each parameter is identified."""
    rng = np.random.default_rng(seed)
    points = rng.random((runs, 2))
    a = 8 * (points[:, 0] - 0.5) + rng.normal(0, noise, runs)
    b = 8 * (points[:, 1] - 0.5) + rng.normal(0, noise, runs)
    total = a + b + rng.normal(0, noise, runs)
    return ReferenceTable(
        points,
        np.column_stack([a, b, total]),
        np.ones(runs, dtype=int),
        np.ones(runs, dtype=bool),
        ("a", "b", "total"),
        ("p", "q"),
    )


def test_a_figure_the_others_explain_is_predicted_within_its_band():
    table = synthetic_table()
    widths = {"a": 1.0, "b": 1.0, "total": 100.0}  # total's terms are in widths of 100 persons
    bands = {"a": (-1, 1), "b": (-1, 1), "total": (900, 1100)}
    [row] = leave_one_out(table, widths, bands, accepted=100, keys=("total",))
    assert row["meets"] and row["median_in_band"]
    assert abs(row["median"] - 1000) < 60  # the documents' centre, from a and b alone
    assert row["q05"] < row["median"] < row["q95"]


def test_a_figure_the_others_cannot_explain_is_predicted_only_vaguely():
    table = synthetic_table()
    bands = {"a": (-1, 1), "b": (-1, 1), "total": (-1, 1)}
    widths = dict.fromkeys(bands, 1.0)
    [row] = leave_one_out(table, widths, bands, accepted=100, keys=("a",))
    # b and total together still pin a down (a = total - b) ...
    assert row["q95"] - row["q05"] < 3
    only_b = ReferenceTable(
        table.points, table.terms[:, :2], table.wave, table.inside, ("a", "b"), ("p", "q")
    )
    [vague] = leave_one_out(only_b, widths, bands, accepted=100, keys=("a",))
    # ... but b alone says nothing of a: the prediction spans most of a's range.
    assert vague["q95"] - vague["q05"] > 5


def test_a_posterior_of_enough_nearest_runs_holds_the_truth_at_about_its_nominal_rate():
    # (Noise of the order of the figures' widths, as in the calibration; with far less noise,
    # the 100 nearest runs reach wider than the noise does and cover more than they claim.)
    table = synthetic_table(noise=1.0)
    result = coverage(table, truths=300, accepted=100, rng=np.random.default_rng(1))
    at_50, at_90 = result["overall"]
    assert 0.42 < at_50 < 0.68 and 0.84 < at_90 < 0.97
    assert set(result["by_parameter"]) == {"p", "q"}
    assert np.shape(result["ranks"]) == (300, 2)


def test_a_posterior_of_too_few_runs_is_seen_to_be_overconfident():
    noisy = synthetic_table(noise=4.0)
    result = coverage(noisy, truths=300, accepted=4, rng=np.random.default_rng(1))
    assert result["overall"][1] < 0.8  # the 90% interval of four runs holds the truth far less


def test_the_posterior_marginals_are_drawn_with_pyabc_for_every_parameter(tmp_path):
    import json

    from conftest import ROOT

    from analysis.calibration.priors import load_priors
    from analysis.calibration.report_figures import plot_marginals
    from analysis.calibration.settings import PRIORS_FILE

    posterior = json.loads(
        (ROOT / "scenarios" / "calibration" / "historical" / "posterior.json").read_text()
    )
    priors = [p for p in load_priors(PRIORS_FILE) if p.key in posterior["parameters"]]
    name = plot_marginals(tmp_path, priors, posterior)
    assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
