"""The Python API in a notebook: run the baseline, read its tables, compare a counterfactual.

Run it as a script (``python docs/examples/quickstart.py``) or paste it into a notebook cell by
cell. At ``SCALE = 0.05`` (30,000 people) it takes a few seconds; use 1.0 for the full
population. The test suite runs this file.
"""

import sim

SCALE, REPS, SEED = 0.05, 4, 1959

# A scenario: a bundled one by name, or the path of a TOML file.
baseline = sim.load_scenario("historical")
print(baseline.description)

# Run it: REPS replications of the numpy engine, every random number from SEED.
result = sim.simulate(baseline, seed=SEED, replications=REPS, scale=SCALE)

# One row per year, in full-population persons (the simulated count kept beside each mean).
annual = sim.annual_table(result, scale=SCALE)
columns = ["departures_persons_mean", "departures_persons_p05", "departures_persons_p95"]
print(
    annual[["year", *columns, "departures_simulated_persons_mean"]].head(8).to_string(index=False)
)

# The documented figures beside the simulated ones, in full-population units.
figures = sim.figures_table(result, scale=SCALE)
print(figures[["label", "documented", "mean", "p05", "p95", "within"]].to_string(index=False))

# A counterfactual from the documents: no 1956 welfare cuts, no exclusion from the 1959 system.
# Run with the same seed, it shares the baseline's households and random numbers, so the
# difference replication by replication is the effect of the policy (full-population persons).
other = sim.load_scenario("no_welfare_cuts")
differences = sim.compare(baseline, other, seed=SEED, replications=REPS, scale=SCALE)
print(differences.to_string(index=False))

# A scenario of your own: any key replaced, validated like a file.
later_letters = sim.with_parameters(
    baseline,
    {
        "levers.letters_published": [
            {"from": "1955-01", "value": 0},
            {"from": "1960-10", "value": 1},
        ]
    },
)
published = sim.simulate(later_letters, seed=SEED, replications=REPS, scale=SCALE)
print(sim.paired_differences(result, published, scale=SCALE).to_string(index=False))

# After arrival: the returnees and their descendants, 1960-2025.
after = sim.simulate_aftermath(baseline, result, seed=SEED)
in_north = ["year", "in_north_persons_mean", "resettled_japan_persons_mean"]
print(sim.aftermath_table(after, scale=SCALE)[in_north].tail(3))
