"""The calibration's settings and default places, without importing anything heavy.

``repatriation calibrate --help`` reads its defaults here, so this module imports only the
standard library.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

HISTORICAL = Path("historical")  # the bundled baseline scenario, by name
PRIORS_FILE = Path(__file__).resolve().parent / "priors.toml"
OUT_DIR = Path("results") / "calibration"
# pyABC's perturbation kernels. "normal": one multivariate normal with the covariance of the whole
# weighted sample (pyABC's default); "local": a normal around each particle with the covariance of
# its nearest quarter of the particles (pyABC's LocalTransition). The default is "normal": on a
# pilot (16 parameters, 80 particles) the local kernel's covariances, estimated from 20 particles
# in 16 dimensions, are nearly singular, and its effective sample size fell to 1.7 of 80 in
# generation 1 (3.4 and 6.8 in generations 2 and 3).
TRANSITIONS = ("local", "normal")
# "history-matching": waves of emulators rule out the implausible space, then rejection ABC inside
# what is left (``matching.py``); "smc": pyABC's ABC-SMC over the whole prior (``smc.py``).
METHODS = ("history-matching", "smc")


@dataclass
class Settings:
    scenario: Path = HISTORICAL
    priors: Path = PRIORS_FILE
    targets: Path | None = None  # None: the record shipped with the model
    out: Path = OUT_DIR
    # 0.2: at 0.05 one run's noise on the small documented figures (the 421 taken from Omura,
    # 21 simulated persons there) was several times their bands, so the distance barely saw them;
    # a simulation costs about twice as much at 0.2 (0.19 s against 0.10 s), and the emulators,
    # not the simulations, took most of a calibration's time.
    scale: float = 0.2
    seed: int = 1959
    method: str = "history-matching"
    population_size: int = 400  # ABC-SMC's particles; history matching's posterior runs
    runs_per_wave: int = 400  # history matching: simulations in each wave's design
    cutoff: float = 3.0  # history matching: implausibility above which a parameter set is out
    max_waves: int = 10
    point_scale: float = 1.0  # history matching: the scale at which the point's candidates run
    # The calibration stops when it has converged: its acceptance threshold (epsilon, in band
    # widths) reaches ``min_epsilon`` (None: the square root of the number of fitted figures, every
    # figure at its tolerance on average), falls by less than ``min_eps_diff`` from one generation
    # to the next, or costs more than 1 / ``min_acceptance_rate`` simulations a particle. The
    # generations, simulations and minutes below are safety caps; the run says which one stopped it.
    min_epsilon: float | None = None
    min_eps_diff: float = 0.1
    # At 5%, a generation costs 20 simulations a particle: 8,000 for 400 particles.
    min_acceptance_rate: float = 0.05
    generations: int = 40
    max_simulations: int = 200000
    max_minutes: float = 240.0
    noise_reps: int = 30
    workers: int = 1
    scheduler: str | None = None  # a Dask scheduler's address: evaluate particles there
    resume: bool = False
    overwrite: bool = False  # start afresh in a folder that holds a calibration, replacing it
    transition: str = "normal"  # pyABC's perturbation kernel: "local" or "normal" (see TRANSITIONS)
    # Multiplies the kernel's covariance (pyABC's ``scaling``). Measured on a pilot (16
    # parameters, 80 particles, scale 0.02): effective sample sizes 80, 2.6, 7.6, 1.8, 1.1 in
    # generations 0-4 with pyABC's default 1, and 80, 30.0, 8.8, 10.2 with 2.5, at about the same
    # acceptance rate. A kernel narrower than the shrinking acceptance region makes the proposal
    # density, and so the weights prior / proposal, vary by orders of magnitude in 16 dimensions.
    kernel_scaling: float = 2.5

    def tolerance(self, figures: int) -> float:
        """The distance the calibration aims at: ``min_epsilon``, or by default the square root
        of the number of fitted figures (every figure at its width on average)."""
        return self.min_epsilon or math.sqrt(figures)
