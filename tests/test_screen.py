"""The screen of the settled households (sim/screen.py): it must find every household whose draw
is below its intend chance, and let few others through."""

import numpy as np

from sim import decision
from sim.screen import may_intend


def screened(u, logit):
    u, logit = np.asarray(u, dtype=np.float32), np.asarray(logit, dtype=np.float32)
    return may_intend(u.view(np.int32), logit)


def test_finds_every_draw_below_the_chance_over_random_logits_and_draws():
    rng = np.random.default_rng(3)
    logit = rng.uniform(-100, 30, 1_000_000).astype(np.float32)
    u = rng.random(logit.size, dtype=np.float32)
    below = u < decision.intend_probability(logit)
    assert below.sum() > 100_000  # the test sees many households that come to intend
    assert np.all(screened(u, logit)[below])


def test_finds_the_draw_just_below_the_chance_wherever_the_chance_is_above_zero():
    # every logit from the smallest with a chance above 0 up, with the highest draw below it
    logit = np.linspace(-88.72, 20, 2_000_001, dtype=np.float32)
    chance = decision.intend_probability(logit)
    assert chance[0] > 0
    u = np.nextafter(chance, np.float32(0))
    u = np.minimum(u, np.nextafter(np.float32(1), np.float32(0)))  # draws are below 1
    assert np.all(u < chance)
    assert np.all(screened(u, logit))


def test_a_draw_of_zero_is_found_wherever_the_chance_is_above_zero():
    logit = np.linspace(-89.0, -80.0, 100_001, dtype=np.float32)
    chance = decision.intend_probability(logit)
    found = screened(np.zeros_like(logit), logit)
    assert np.all(found[chance > 0])
    assert (chance == 0).any()  # the range covers the logits whose chance is exactly 0


def test_extreme_logits_get_the_answer_of_the_exact_chance():
    logit = np.array([np.inf, 1e30, 89.0, -1e30, -np.inf], dtype=np.float32)
    u = np.full(logit.size, 0.999, dtype=np.float32)
    assert screened(u, logit).tolist() == [True, True, True, False, False]


def test_few_households_of_small_chance_pass_the_screen():
    # draws evenly spread over [0, 1): a logit of -7 gives a chance of 0.09%; some 2**1.5 times
    # exp(-7) pass the screen (its margin), up to 2**0.0861 times more (the bits of a draw read
    # as its logarithm), no more
    u = ((np.arange(1_000_000) + 0.5) / 1_000_000).astype(np.float32)
    logit = np.full(u.size, -7.0, dtype=np.float32)
    chance = float(decision.intend_probability(np.float32(-7.0)))
    passed = screened(u, logit).mean()
    assert 2**1.5 * chance < passed <= 2**1.5861 * np.exp(-7.0) + 1e-6
