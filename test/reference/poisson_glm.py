"""Reference for src/models/pricing/poisson-glm.ts: a Poisson log-link regression fitted by maximising
the likelihood with scipy (BFGS, not IRLS), standard errors from the inverse Fisher information
X'diag(mu)X scaled by the Pearson dispersion (floored at 1), as the TypeScript code reports them.
Run: python3 test/reference/poisson_glm.py > test/reference/poisson-glm.json
"""
import json

import numpy as np
from scipy.optimize import minimize
from scipy.special import gammaln


def main():
    rng = np.random.default_rng(20261123)
    n = 240
    t = np.arange(n)
    dow = t % 7
    log_price = np.log(np.where(t < 80, 20.0, np.where(t < 160, 23.0, 18.5))) + rng.normal(0, 0.01, n)
    lp = log_price - log_price.mean()
    x = np.column_stack([np.ones(n), lp] + [(dow == w).astype(float) for w in range(1, 7)] + [t / (n - 1)])
    beta_true = np.array([0.4, -1.8, 0.1, 0.05, 0.0, 0.2, 0.35, -0.1, 0.3])
    y = rng.poisson(np.exp(x @ beta_true) * rng.gamma(4.0, 0.25, n))  # overdispersed

    def nll(b):
        eta = x @ b
        return float(np.sum(np.exp(eta) - y * eta + gammaln(y + 1)))

    def grad(b):
        return x.T @ (np.exp(x @ b) - y)

    res = minimize(nll, np.zeros(x.shape[1]), jac=grad, method="BFGS", options={"gtol": 1e-10, "maxiter": 10000})
    mu = np.exp(x @ res.x)
    info = x.T @ (x * mu[:, None])
    dispersion = max(1.0, float(np.sum((y - mu) ** 2 / mu) / (n - x.shape[1])))
    se = np.sqrt(np.diag(np.linalg.inv(info)) * dispersion)
    print(json.dumps({"x": x.tolist(), "y": y.tolist(), "beta": res.x.tolist(), "se": se.tolist(), "dispersion": dispersion}, indent=1))


if __name__ == "__main__":
    main()
