"""History matching: rule out, wave by wave, the parameters that cannot give the documented figures.

Every free parameter is uniform on its place in its prior's range (``Prior.from_unit``), so the
prior is the uniform distribution on the unit cube. Each wave simulates a design drawn uniformly
from the space not yet ruled out, fits one Gaussian-process emulator (scikit-learn) per
documented figure to that figure's error in units of its width (``ToleranceDistance.terms``),
checks each emulator on runs held out of its fit, and rules out a parameter set where a
validated emulator puts its figure more than ``cutoff`` standard deviations from the documents:
the implausibility |E[term]| / sqrt(Var_emulator + 1) (Craig, Goldstein et al. 1997; the width
already holds the document's tolerance and the run's noise, so the observation's variance is 1).
The 3-sigma cutoff is Pukelsheim's rule for unimodal distributions. The waves stop when a wave
rules out less than ``stop_share`` of the space it searched (the space has stopped shrinking),
or when its runs fit no better than the last wave's (their median distance fell by less than
``min_gain``): further waves would cost runs without bringing the model closer to the documents.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

# Held out of each emulator's fit to check it: an emulator whose held-out runs fall more than 3
# predictive standard deviations away more often than ``MAX_OUTSIDE`` rules nothing out.
HELD_OUT, MAX_OUTSIDE = 0.2, 0.1
# Candidates examined at a time when drawing from the space not ruled out, and in all before
# random walks take over from rejection.
BATCH, MAX_CANDIDATES = 20_000, 400_000


def one_thread():
    """Linear algebra on one thread: the same bits on any machine with the same BLAS (a
    threaded sum may round differently), and no spinning threads that fight the simulation
    workers for the cores (measured: 12 ms for a 32 x 32 solve with two workers busy)."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(1)


@dataclass
class Emulator:
    """One figure's Gaussian process, and whether its held-out check passed."""

    key: str
    gp: object | None  # sklearn GaussianProcessRegressor, refitted on all the wave's runs
    valid: bool
    outside_share: float  # held-out runs more than 3 predictive sd from their prediction
    held_out_r2: float

    def rules_out(self, x: np.ndarray, cutoff: float) -> np.ndarray:
        """Where the implausibility exceeds ``cutoff``. The predictive sd costs far more than
        the mean and lies between 0 and the kernel's prior sd, so it is computed only where
        the mean alone leaves the answer open."""
        if not self.valid or self.gp is None:
            return np.zeros(len(x), dtype=bool)
        mean = np.abs(self.gp.predict(x))
        prior_sd = float(np.sqrt(self.gp.kernel_.diag(x[:1])[0])) * float(
            np.max(self.gp._y_train_std)
        )
        out = mean / np.sqrt(prior_sd**2 + 1.0) > cutoff
        unsure = np.flatnonzero(~out & (mean > cutoff))
        if len(unsure):
            _, sd = self.gp.predict(x[unsure], return_std=True)
            out[unsure] = mean[unsure] / np.sqrt(sd**2 + 1.0) > cutoff
        return out


@dataclass
class Wave:
    """A wave: its design, the runs' terms, its emulators, and how much it ruled out."""

    number: int
    design: np.ndarray  # (runs, parameters) places in the prior ranges
    terms: np.ndarray  # (runs, figures) errors in widths
    emulators: list[Emulator] = field(default_factory=list)
    searched: int = 0  # candidates examined to draw the design from the space left
    kept_share: float = 1.0  # share of the design that this wave's emulators do not rule out

    def median_distance(self) -> float:
        return float(np.median(np.sqrt((self.terms**2).sum(axis=1))))

    def record(self) -> dict:
        return {
            "wave": self.number,
            "runs": int(len(self.design)),
            "candidates_searched": int(self.searched),
            "kept_share": float(self.kept_share),
            "median_distance": self.median_distance(),
            "emulators": [
                {
                    "key": e.key,
                    "valid": e.valid,
                    "held_out_outside_3sd": round(e.outside_share, 4),
                    "held_out_r2": round(e.held_out_r2, 4),
                }
                for e in self.emulators
            ],
        }


def fit_emulator(key: str, x: np.ndarray, y: np.ndarray, order: np.ndarray) -> Emulator:
    """A Gaussian process of ``y`` over ``x``, checked on the runs held out of its fit: the
    first fifth of ``order`` (a permutation of the runs).

    Kernel: a constant times an RBF with one length scale per parameter (what matters little
    gets a long one), plus white noise for the run's own randomness.
    """
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel

    dims = x.shape[1]
    kernel = ConstantKernel(1.0, (1e-3, 1e3)) * RBF(np.full(dims, 0.5), (1e-2, 1e3)) + WhiteKernel(
        1e-2, (1e-8, 1e1)
    )
    held = order[: int(round(HELD_OUT * len(x)))]
    train = order[len(held) :]
    if np.ptp(y) == 0:  # a figure that no run moves (a constraint met everywhere)
        return Emulator(key, None, True, 0.0, float("nan"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        gp = GaussianProcessRegressor(kernel, normalize_y=True, random_state=0)
        gp.fit(x[train], y[train])
    mean, sd = gp.predict(x[held], return_std=True)
    outside = float(np.mean(np.abs(y[held] - mean) > 3 * np.maximum(sd, 1e-12)))
    r2 = 1.0 - float(
        np.sum((y[held] - mean) ** 2) / max(np.sum((y[held] - y[held].mean()) ** 2), 1e-300)
    )
    if outside > MAX_OUTSIDE:
        return Emulator(key, None, False, outside, r2)
    # The check passed: keep its hyperparameters and condition on every run of the wave.
    final = GaussianProcessRegressor(gp.kernel_, normalize_y=True, optimizer=None)
    final.fit(x, y)
    return Emulator(key, final, True, outside, r2)


def fit_task(task: tuple[str, np.ndarray, np.ndarray, np.ndarray]) -> Emulator:
    """``fit_emulator`` on one thread, for a worker process (picklable, top level)."""
    with one_thread():
        return fit_emulator(*task)


def not_ruled_out(waves: list[Wave], x: np.ndarray, cutoff: float) -> np.ndarray:
    """Which rows of ``x`` no emulator of any wave rules out (each looks only at those still
    in)."""
    keep = np.ones(len(x), dtype=bool)
    for emulator in (e for wave in waves for e in wave.emulators):
        inside = np.flatnonzero(keep)
        if not len(inside):
            break
        keep[inside] = ~emulator.rules_out(x[inside], cutoff)
    return keep


def draw_not_ruled_out(
    waves: list[Wave],
    n: int,
    dims: int,
    rng: np.random.Generator,
    cutoff: float,
    max_candidates: int,
) -> tuple[np.ndarray, int]:
    """``n`` points uniform on the space no wave rules out, and how many candidates it took.

    By rejection from the uniform prior while that finds the points within ``max_candidates``
    (exact draws from the prior restricted to the space); once the space is too small for
    that, by random walks inside it (``walk_not_ruled_out``) started from the points found and
    from the last wave's runs that are still in. Raises ValueError if no point is left.
    """
    with one_thread():
        return _draw(waves, n, dims, rng, cutoff, max_candidates)


def _draw(waves, n, dims, rng, cutoff, max_candidates) -> tuple[np.ndarray, int]:
    found, searched = [], 0
    while sum(len(f) for f in found) < n and searched < max_candidates:
        candidates = rng.random((BATCH, dims))
        searched += BATCH
        found.append(candidates[not_ruled_out(waves, candidates, cutoff)])
    points = np.concatenate(found) if found else np.empty((0, dims))
    if len(points) >= n:
        return points[:n], searched
    if waves:
        last = waves[-1].design
        points = np.concatenate([points, last[not_ruled_out(waves, last, cutoff)]])
    if not len(points):
        raise ValueError(
            f"history matching: every parameter set is ruled out ({searched:,} candidates and "
            "the last wave's runs): the model cannot give every fitted figure within "
            f"{cutoff:g} widths at once"
        )
    return walk_not_ruled_out(waves, points, n, rng, cutoff), searched


def walk_not_ruled_out(
    waves: list[Wave],
    starts: np.ndarray,
    n: int,
    rng: np.random.Generator,
    cutoff: float,
    chains: int = 200,
    burn_in: int = 60,
    thin: int = 10,
) -> np.ndarray:
    """``n`` points approximately uniform on the space no wave rules out, by random walks.

    Random-walk Metropolis whose target is uniform on the space: a step is taken when it lands
    inside the unit cube and is not ruled out, else the walker stays. Walkers start from
    ``starts`` (points in the space); the step's scale adapts during the burn-in towards a
    quarter of steps taken, then is fixed, and every ``thin``-th position is kept.
    """
    dims = starts.shape[1]
    walkers = starts[rng.integers(len(starts), size=chains)]
    spread = starts.std(axis=0) if len(starts) > 1 else np.full(dims, 0.05)
    step = np.maximum(spread, 1e-3) * 2.38 / np.sqrt(dims)
    kept = []
    iteration = 0
    while sum(len(k) for k in kept) < n:
        proposal = walkers + rng.normal(size=walkers.shape) * step
        inside = np.all((proposal >= 0) & (proposal <= 1), axis=1)
        index = np.flatnonzero(inside)
        inside[index] = not_ruled_out(waves, proposal[index], cutoff)
        walkers[inside] = proposal[inside]
        iteration += 1
        if iteration <= burn_in:
            step *= np.exp(np.mean(inside) - 0.25)
        elif (iteration - burn_in) % thin == 0:
            kept.append(walkers.copy())
    return np.concatenate(kept)[:n]


@dataclass
class Matching:
    """The waves, and why they stopped."""

    waves: list[Wave]
    converged: bool
    reason: str


def history_match(
    evaluate: Callable[[np.ndarray], np.ndarray],
    keys: list[str],
    dims: int,
    seed: int,
    runs_per_wave: int,
    cutoff: float = 3.0,
    stop_share: float = 0.2,
    min_gain: float = 0.05,
    max_waves: int = 10,
    max_candidates: int = MAX_CANDIDATES,
    log: Callable[[str], None] = print,
    on_wave: Callable[[Wave], None] = lambda wave: None,
    map_: Callable = map,
    progress: Callable[[str], None] | None = None,
) -> Matching:
    """Waves of design, simulation, emulation and ruling out, until the space stops shrinking.

    ``evaluate`` maps an array of places in the prior ranges (rows) to the figures' terms
    (rows by ``keys``). Wave k's design and held-out split are drawn from
    ``SeedSequence([seed, k])``: the waves are a function of ``seed`` and ``evaluate``.
    ``progress`` is told as each wave starts, ``on_wave`` given each wave as it ends.
    """
    waves: list[Wave] = []
    for number in range(1, max_waves + 1):
        if progress:
            progress(f"wave {number}")
        rng = np.random.default_rng(np.random.SeedSequence([seed, number]))
        design, searched = draw_not_ruled_out(
            waves, runs_per_wave, dims, rng, cutoff, max_candidates
        )
        terms = evaluate(design)
        wave = Wave(number, design, terms, searched=searched)
        # The emulators are fitted over ``map_`` (the workers: fitting costs more than the
        # wave's simulations), each on its own split, drawn here in figure order.
        tasks = [(k, design, terms[:, j], rng.permutation(len(design))) for j, k in enumerate(keys)]
        wave.emulators = list(map_(fit_task, tasks))
        with one_thread():
            wave.kept_share = float(np.mean(not_ruled_out([wave], design, cutoff)))
        waves.append(wave)
        on_wave(wave)
        valid = sum(e.valid for e in wave.emulators)
        log(
            f"wave {number}: {len(design)} runs (from {searched:,} candidates), "
            f"{valid}/{len(keys)} emulators valid, kept {wave.kept_share:.0%} of the space searched"
        )
        # An emulator that failed its check rules nothing out: the space has not been seen to
        # stop shrinking until every figure's emulator holds.
        if valid < len(keys):
            continue
        if wave.kept_share > 1.0 - stop_share:
            return Matching(waves, True, f"wave {number} ruled out less than {stop_share:.0%}")
        if (
            len(waves) > 1
            and wave.median_distance() > (1.0 - min_gain) * waves[-2].median_distance()
        ):
            return Matching(
                waves,
                True,
                f"the runs of wave {number} fit no better than those of wave {number - 1} "
                f"(median distance down by less than {min_gain:.0%})",
            )
    return Matching(waves, False, f"cap: {max_waves} waves")
