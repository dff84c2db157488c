"""Reference for src/models/experiments/: the same figures computed with scipy's own routines
(ttest_ind_from_stats for Welch's test, chisquare for the sample-ratio check, quadrature of Beta
densities for the exact chance to win, quadrature of normal densities for the probability of being
best, the normal quantile for power). The delta-method variance of a relative lift is a formula,
checked against GrowthBook's published vectors in the unit test instead.
Run: python3 test/reference/experiments.py > test/reference/experiments.json
"""
import json

import numpy as np
from scipy import integrate, stats


def welch_cases():
    out = []
    rng = np.random.default_rng(20261123)
    for n_a, n_b, mu_a, mu_b, sd in [(500, 520, 10.0, 10.8, 6.0), (40, 35, 3.0, 2.2, 2.5), (20000, 19800, 0.9, 0.95, 4.0)]:
        a = rng.normal(mu_a, sd, n_a)
        b = rng.normal(mu_b, sd * 1.3, n_b)
        t, p = stats.ttest_ind_from_stats(b.mean(), b.std(ddof=1), n_b, a.mean(), a.std(ddof=1), n_a, equal_var=False)
        va, vb = a.var(ddof=1), b.var(ddof=1)
        se = np.sqrt(va / n_a + vb / n_b)
        df = se**4 / ((va / n_a) ** 2 / (n_a - 1) + (vb / n_b) ** 2 / (n_b - 1))
        half = stats.t.ppf(0.975, df) * se
        d = b.mean() - a.mean()
        out.append({
            "a": {"n": n_a, "sum": float(a.sum()), "sumSq": float((a**2).sum())},
            "b": {"n": n_b, "sum": float(b.sum()), "sumSq": float((b**2).sum())},
            "absolute": {"estimate": float(d), "se": float(se), "df": float(df), "lo": float(d - half), "hi": float(d + half), "p": float(p)},
        })
    return out


def srm_cases():
    out = []
    for counts, weights in [([5050, 4950], [1, 1]), ([5200, 4800], [1, 1]), ([2100, 3900, 4000], [0.2, 0.4, 0.4]), ([3300, 6700], [1, 3])]:
        total = sum(counts)
        expected = [total * w / sum(weights) for w in weights]
        chi2, p = stats.chisquare(counts, expected)
        out.append({"counts": counts, "weights": weights, "chi2": float(chi2), "p": float(p)})
    return out


def exact_cases():
    out = []
    for (n_a, c_a), (n_b, c_b) in [((100, 10), (100, 18)), ((30, 3), (28, 1)), ((1000, 52), (1000, 61)), ((12, 0), (12, 2))]:
        a = stats.beta(1 + c_a, 1 + n_a - c_a)
        b = stats.beta(1 + c_b, 1 + n_b - c_b)
        # P(p_B > p_A) = ∫ f_B(x) F_A(x) dx
        p, _ = integrate.quad(lambda x: b.pdf(x) * a.cdf(x), 0, 1, epsabs=1e-12, epsrel=1e-10, limit=200)
        out.append({"a": {"n": n_a, "conversions": c_a}, "b": {"n": n_b, "conversions": c_b}, "chance": float(p)})
    return out


def best_cases():
    out = []
    for arms in [[(0.100, 0.004), (0.104, 0.004), (0.101, 0.004)], [(5.0, 0.3), (5.5, 0.4)]]:
        probs = []
        for k, (m_k, s_k) in enumerate(arms):
            def f(x, k=k, m_k=m_k, s_k=s_k):
                v = stats.norm.pdf(x, m_k, s_k)
                for j, (m_j, s_j) in enumerate(arms):
                    if j != k:
                        v *= stats.norm.cdf(x, m_j, s_j)
                return v
            p, _ = integrate.quad(f, m_k - 12 * s_k, m_k + 12 * s_k, epsabs=1e-12, limit=200)
            probs.append(float(p))
        out.append({"arms": [{"mean": m, "se": s} for m, s in arms], "best": probs})
    return out


def power_cases():
    out = []
    z = stats.norm.ppf(0.975) + stats.norm.ppf(0.8)
    for p_a, target in [(0.1, 0.05), (0.03, 0.1)]:
        p_1 = p_a * (1 + target)
        n = z**2 * (p_a * (1 - p_a) + p_1 * (1 - p_1)) / (p_a * target) ** 2
        out.append({"baseline": p_a, "target": target, "units_per_arm": int(np.ceil(n))})
    return out


print(json.dumps({"welch": welch_cases(), "srm": srm_cases(), "exact": exact_cases(), "best": best_cases(), "power": power_cases()}, indent=1))
