"""A pyABC sampler whose result does not depend on the number of workers or where they run.

pyABC's parallel samplers accept whichever particles finish first, and reseed their workers at
random, so a calibration on two processes differs from one on one. ``OrderedSampler`` proposes
particles by number instead: particle i of generation t draws its proposal from a random state
seeded by (seed, t, i), is simulated (the model's own seed follows from the parameters), and the
first n accepted in number order make the generation. Particles are evaluated in batches of a
fixed size, spread over any ``map`` (built-in ``map``, a process pool's, or a Dask client's), and
a batch's results are read in order; so one process, two, or a cluster give the same posterior.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Sequence
from functools import partial

import cloudpickle
import numpy as np
from pyabc.sampler import Sampler

# Particles per batch: fixed, so that where a generation stops never depends on the workers.
# After the n-th acceptance the rest of its batch is wasted: a few percent at the acceptance
# rates of this calibration (5% to 50%, 400 particles).
BATCH = 64
# Particles per task: a worker unpickles the generation's sampling function once per task.
TASK = 8

Map = Callable[[Callable, Iterable], Iterable]


class OrderedSampler(Sampler):
    """Evaluate numbered proposals in fixed batches over ``map_``; accept in number order."""

    def __init__(self, seed: int, map_: Map = map, batch: int = BATCH, task: int = TASK):
        super().__init__()
        self.seed, self.map_, self.batch, self.task = seed, map_, batch, task
        # Told the generation as each starts (-1: the sample that sets the first threshold).
        self.on_generation: Callable[[int], None] | None = None

    def sample_until_n_accepted(
        self, n, simulate_one, t, *, max_eval=np.inf, all_accepted=False, ana_vars=None
    ):
        if self.on_generation:
            self.on_generation(t)
        one = cloudpickle.dumps(simulate_one)
        sample = self._create_empty_sample()
        accepted = evaluated = first = 0
        while accepted < n and evaluated < max_eval:
            tasks = [
                range(start, min(start + self.task, first + self.batch))
                for start in range(first, first + self.batch, self.task)
            ]
            for particles in self.map_(partial(_simulate, one, self.seed, t), tasks):
                for particle in particles:
                    if accepted == n or evaluated >= max_eval:
                        break
                    evaluated += 1
                    sample.append(particle)
                    accepted += particle.accepted
            first += self.batch
        self.nr_evaluations_ = evaluated
        if accepted < n:
            sample.ok = False
        return sample


def _simulate(one: bytes, seed: int, t: int, numbers: Sequence[int]) -> list:
    """Particles ``numbers`` of generation ``t`` (t = -1: the sample that sets the first
    epsilon), each from its own seeded proposal."""
    simulate_one = cloudpickle.loads(one)
    particles = []
    for i in numbers:
        state = np.random.SeedSequence([seed, t + 1, i]).generate_state(2)
        np.random.seed(state[0])  # pyABC's priors and kernels draw from numpy's global state
        random.seed(int(state[1]))
        particles.append(simulate_one())
    return particles
