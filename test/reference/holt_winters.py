"""Reference for src/models/forecast: Holt-Winters (additive damped trend; additive or multiplicative
weekly seasonality) in numpy, fitted with scipy, plus the interval maths, on a fixed series.

Same definitions as holt-winters.ts (FPP3 §8.3 error-correction form, classical initial states).
Run: python3 test/reference/holt_winters.py > test/reference/holt-winters.json
"""
import json

import numpy as np
from scipy.optimize import minimize

M = 7


def initial_state(y, m, kind):
    level = y[:m].mean()
    trend = (y[m:2 * m].mean() - level) / m
    season = y[:m] - level if kind == "additive" else y[:m] / level
    return level, trend, season.copy()


def hw_filter(y, m, kind, alpha, beta, gamma, phi):
    level, trend, season = initial_state(y, m, kind)
    fitted = np.empty(len(y))
    for t, obs in enumerate(y):
        j = t % m
        s = season[j]
        base = level + phi * trend
        prev = level
        if kind == "additive":
            fitted[t] = base + s
            level = alpha * (obs - s) + (1 - alpha) * base
            season[j] = gamma * (obs - base) + (1 - gamma) * s
        else:
            fitted[t] = base * s
            level = alpha * (obs / s) + (1 - alpha) * base
            season[j] = gamma * (obs / base) + (1 - gamma) * s
        trend = beta * (level - prev) + (1 - beta) * phi * trend
    shift = len(y) % m
    season = np.array([season[(shift + i) % m] for i in range(m)])
    return fitted, level, trend, season


def hw_forecast(level, trend, season, horizon, kind, phi):
    out = []
    damp = 0.0
    for h in range(1, horizon + 1):
        damp += phi ** h
        base = level + damp * trend
        s = season[(h - 1) % M]
        out.append(base + s if kind == "additive" else base * s)
    return np.array(out)


def fit(y, kind):
    def sse(q):
        alpha, beta, share, phi = q
        fitted = hw_filter(y, M, kind, alpha, beta, share * (1 - alpha), phi)[0]
        return float(((y - fitted) ** 2).sum())

    bounds = [(1e-4, 1 - 1e-4), (0, 1 - 1e-4), (0, 1 - 1e-4), (0.8, 0.98)]
    best = None
    for start in ([0.3, 0.05, 0.1, 0.95], [0.1, 0.01, 0.3, 0.9], [0.6, 0.1, 0.05, 0.98], [0.5, 0.5, 0.5, 0.9]):
        for method in ("L-BFGS-B", "Powell"):
            r = minimize(sse, start, method=method, bounds=bounds, options={"maxiter": 20000})
            if best is None or r.fun < best.fun:
                best = r
    alpha, beta, share, phi = best.x
    return {"alpha": alpha, "beta": beta, "gamma": share * (1 - alpha), "phi": phi, "sse": best.fun}


def main():
    rng = np.random.default_rng(20261123)
    n = 140
    t = np.arange(n)
    weekly = np.array([0.8, 0.9, 1.0, 1.05, 1.1, 1.3, 0.85])
    y = (1000 + 4 * t) * weekly[t % M] + rng.normal(0, 40, n)
    y = np.round(y, 2)
    fixed = {"alpha": 0.35, "beta": 0.08, "gamma": 0.2, "phi": 0.93}
    out = {"m": M, "y": y.tolist(), "fixed": fixed, "kinds": {}}
    for kind in ("additive", "multiplicative"):
        fitted, level, trend, season = hw_filter(y, M, kind, **fixed)
        out["kinds"][kind] = {
            "fixed_fitted": fitted.tolist(),
            "fixed_state": {"level": level, "trend": trend, "season": season.tolist()},
            "fixed_forecast": hw_forecast(level, trend, season, 30, kind, fixed["phi"]).tolist(),
            "fit": fit(y, kind),
        }
    # Type-7 (numpy's default, linear) quantiles, the definition the interval code uses.
    errors = rng.normal(0, 1, 37)
    out["quantiles"] = {
        "x": errors.tolist(),
        "p": [0.025, 0.1, 0.5, 0.9, 0.975],
        "q": np.quantile(errors, [0.025, 0.1, 0.5, 0.9, 0.975]).tolist(),
    }
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
