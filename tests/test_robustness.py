"""The Morris screening of the hand-set weights: which weights it varies, and what it measures."""

import numpy as np
from conftest import HISTORICAL

from analysis.calibration.priors import load_priors
from analysis.calibration.robustness import SPREAD, hand_set_weights, screen
from sim.scenario import load_scenario


def test_only_the_weights_the_calibration_leaves_are_screened():
    baseline = load_scenario(HISTORICAL)
    calibrated = [p.key for p in load_priors()]
    weights = hand_set_weights(baseline, calibrated)
    assert weights and not set(weights) & set(calibrated)
    assert all(key.startswith("decision.") and value > 0 for key, value in weights.items())
    assert weights["decision.one_way"] == baseline.decision.one_way


def test_a_scenario_equal_to_the_baseline_has_no_effect_and_a_policy_has_one():
    baseline = load_scenario(HISTORICAL)
    calibrated = [p.key for p in load_priors()]
    same = baseline.model_copy(update={"name": "same"})
    policy = load_scenario("no_welfare_cuts")
    result = screen(baseline, [same, policy], calibrated, 7, 0.01, 2, 2)
    by_name = {r["scenario"]: r for r in result["rows"]}
    assert result["spread"] == SPREAD and result["points"] == 2 * (len(result["weights"]) + 1)
    unchanged = by_name["same"]
    assert unchanged["effect_low"] == unchanged["effect_high"] == 0.0
    assert set(unchanged["mu_star"].values()) == {0.0}
    assert by_name["no_welfare_cuts"]["effect_high"] < 0  # fewer leave without the cuts
    assert np.isfinite(list(by_name["no_welfare_cuts"]["mu_star"].values())).all()
    assert max(by_name["no_welfare_cuts"]["mu_star"].values()) > 0
