"""Which households' draws may move them this month, found without their exact chances.

A settled household comes to intend leaving when its draw u is below ``intend_probability`` of
its logit l, a sigmoid: an exp, an add and a reciprocal over every household of every row, each
month, though in most months a few households in a thousand have a chance above 1%.
``may_intend`` answers instead a test that is true wherever u < sigmoid(l) (and at some other
households): it compares the bits of u, read as a number, with a line in l. The engine then
computes the exact chance for those households alone, so the month's decisions are the same,
bit for bit, as those of the whole computation.

Why the test cannot miss one. A float32 u = 2**e (1 + f) has the bits (e + 127 + f) 2**23, and
f - log2(1 + f) <= 0.0861, so bits(u) / 2**23 <= log2(u) + 127.0861. The chance numpy computes is
below exp(l) (1 + 1e-6) (sigmoid(l) < exp(l); a few float32 roundings), so u < chance gives
bits(u) / 2**23 < l log2(e) + 127.09, a margin of more than 1.4 below the line's
l log2(e) + 128.5. The chance is above 0 only where exp(-l) does not overflow (l >= -88.72): there
the roundings of the line and of bits(u) as float32 are some 1e-5 of that margin, and the line is
above 0, so even u = 0 is found. Any l >= 0 puts the line above every u < 1.

The numpy engine lists, in one compiled pass over every household (``drawn``), the settled the
screen lets through and the households whose draw is beyond the bounds of reconsidering and of
switching to Kankoku (``decision.reconsider_bound``, ``decision.switch_bound``); it then decides
those few with their rows' values (``listing.Listing``). The pass is here, beside the screen it
computes, so that numba compiles it again whenever this file changes.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .kernels import compiled

_SLOPE = np.float32(2**23 / np.log(2.0))  # log2(e) 2**23: the bits' scale
_LEVEL = np.float32(128.5 * 2**23)  # 127, the exponent's bias, and 1.5 of margin


def may_intend(bits, logit):
    """True wherever ``u < decision.intend_probability(logit)`` (not only there), for the draw u
    of the ``bits`` (``u.view(np.int32)``; draws are float32 in [0, 1)). Written for arrays and
    for one household alike: numpy computes it over arrays, numba for each household of the
    engine's listing pass (``drawn``)."""
    return np.float32(bits) < logit * _SLOPE + _LEVEL  # bits as float32: exact to 1 in 2**24


_may_intend = njit(may_intend)  # for one household, in ``drawn`` (compiled with it)


@compiled
def drawn(bits, u, logit, state, settled, below, above, replications, out):
    """Which households' draws may move them this month: the settled (``state`` equal to
    ``settled``) that the screen lets through (``may_intend`` of the draws' ``bits`` and the
    ``logit``), and every household whose draw ``u`` is below its scenario's ``below`` (where
    ``decision.reconsiders``) or at or above its ``above`` (where
    ``decision.switches_registration``); ``replications`` rows a scenario. Arrays (rows,
    households); ``out``: a bool array of their shape, written."""
    for r in range(u.shape[0]):
        low, high = below[r // replications], above[r // replications]
        for h in range(u.shape[1]):
            screened = (state[r, h] == settled) & _may_intend(bits[r, h], logit[r, h])
            out[r, h] = screened | (u[r, h] < low) | (u[r, h] >= high)
