"""Random search of the priors at scale 0.05 (the one in this folder's README): python random_search.py SEED N
writes /tmp/explore/search_SEED.json (one replication per draw; decision.letters log-uniform 0.01-3).
Run from the project root; throwaway code kept so the numbers in the README can be repeated."""
import sys, json, time, numpy as np
from sim.scenario import load_scenario, with_parameters
from sim.engine_numpy import simulate
from sim.calibration import load_priors
priors = load_priors("analysis/priors.toml")
base = load_scenario("scenarios/historical.toml")
rng = np.random.default_rng(int(sys.argv[1])); n = int(sys.argv[2]); scale = 0.05
out = []
for i in range(n):
    vals = {}
    for p in priors:
        lo, hi = p.low, p.high
        if p.key == "decision.letters": x = 10**rng.uniform(-2, np.log10(3))
        elif p.dist == "loguniform": x = 10**rng.uniform(np.log10(lo), np.log10(hi))
        else: x = rng.uniform(lo, hi)
        vals[p.key] = p.value(x)  # rounds the keys that count persons
    sc = with_parameters(base, vals, source="explore")
    r = simulate(sc, i, 1, scale=scale)
    years = np.asarray(r.months)//12
    d = r.metrics["departures"][0]/scale; g = r.metrics["registrations"][0]/scale
    tot = lambda a,b: float(d[(years>=a)&(years<=b)].sum())
    out.append(dict(vals=vals, total=float(d.sum()), y1960=tot(1960,1960), y1961=tot(1961,1961), l62=tot(1962,1984), l71=tot(1971,1984), reg=float(g[(years>=1959)&(years<=1967)].sum())))
import os; os.makedirs("/tmp/explore", exist_ok=True)
json.dump(out, open(f"/tmp/explore/search_{sys.argv[1]}.json","w"))
