"""Reference for src/models/customers/: scipy's hyp2f1, and the BG/NBD quantities computed without
any closed form, by integrating over the model's latent purchase rate λ ~ Gamma(r, α) and dropout
probability p ~ Beta(a, b) (scipy dblquad) with the likelihood of each customer's history:
  alive-branch  (1−p)^x λ^x e^(−λT),  dropped-branch  p (1−p)^(x−1) λ^x e^(−λ t_x)  (x > 0).
P(alive) is the alive branch's share; E[purchases in (T, T+t]] weights the alive customer's
E[X(t) | λ, p] = (1 − e^(−λ p t)) / p; P(no purchase in (T, T+t]) weights e^(−λt) on the alive branch.
Parameters: the CDNOW maximum-likelihood fit (weeks).
Run: python3 test/reference/customers.py > test/reference/customers.json
"""
import json

import numpy as np
from scipy import integrate, special, stats

R, ALPHA, A, B = 0.242593, 4.413532, 0.792886, 2.425753


def posterior_integrals(x, tx, T, t):
    lam = stats.gamma(R, scale=1 / ALPHA)
    pd = stats.beta(A, B)

    def alive(l, p):
        return (1 - p) ** x * l**x * np.exp(-l * T)

    def dead(l, p):
        return p * (1 - p) ** (x - 1) * l**x * np.exp(-l * tx) if x > 0 else 0.0

    def integral(f):
        # λ over (0, ∞) split where the integrand is steep; p over (0, 1).
        v, _ = integrate.dblquad(lambda l, p: f(l, p) * lam.pdf(l) * pd.pdf(p), 0, 1, 0, 5, epsabs=1e-14, epsrel=1e-10)
        w, _ = integrate.dblquad(lambda l, p: f(l, p) * lam.pdf(l) * pd.pdf(p), 0, 1, 5, np.inf, epsabs=1e-14, epsrel=1e-10)
        return v + w

    la = integral(alive)
    ld = integral(dead)
    total = la + ld
    expected = integral(lambda l, p: alive(l, p) * (1 - np.exp(-l * p * t)) / p) / total
    quiet = (integral(lambda l, p: alive(l, p) * np.exp(-l * t)) + ld) / total
    return {"p_alive": la / total, "expected": expected, "p_no_purchase": quiet}


def unconditional(t):
    lam = stats.gamma(R, scale=1 / ALPHA)
    pd = stats.beta(A, B)
    f = lambda l, p: (1 - np.exp(-l * p * t)) / p * lam.pdf(l) * pd.pdf(p)
    v, _ = integrate.dblquad(f, 0, 1, 0, 5, epsabs=1e-14, epsrel=1e-10)
    w, _ = integrate.dblquad(f, 0, 1, 5, np.inf, epsabs=1e-14, epsrel=1e-10)
    return v + w


hyp = []
for a, b, c, z in [(0.5, 1.5, 2.0, 0.3), (2.2, 3.1, 4.7, 0.9), (12.24, 14.4, 15.2, 0.5), (0.24, 2.43, 2.22, 0.95), (40.2, 42.4, 41.2, 0.2), (3, 5, 7, 0.999)]:
    hyp.append({"a": a, "b": b, "c": c, "z": z, "log": float(np.log(special.hyp2f1(a, b, c, z)))})

customers = []
for x, tx, T, t in [(2, 30.43, 38.86, 39), (1, 1.71, 38.86, 39), (0, 0.0, 38.86, 39), (7, 29.43, 35.14, 52), (3, 5.0, 30.0, 10)]:
    customers.append({"x": x, "tx": tx, "T": T, "t": t, **posterior_integrals(x, tx, T, t)})

print(json.dumps({
    "params": {"r": R, "alpha": ALPHA, "a": A, "b": B},
    "hyp2f1": hyp,
    "customers": customers,
    "unconditional": [{"t": t, "expected": unconditional(t)} for t in [10, 39, 78]],
}, indent=1))
