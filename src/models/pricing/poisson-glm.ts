import { inverse, Matrix, solve } from 'ml-matrix';

/**
 * Poisson regression with a log link by iteratively reweighted least squares (McCullagh & Nelder,
 * ch. 2 and 6): E[y] = exp(Xβ). Written here because no maintained JavaScript library fits GLMs;
 * the linear algebra is ml-matrix's. Standard errors come from the inverse Fisher information,
 * scaled by the Pearson dispersion when the counts are overdispersed (quasi-Poisson), so a noisy
 * product does not get a falsely narrow interval.
 */
export interface GlmFit {
  beta: number[];
  se: number[];
  /** Pearson χ² / (n − p), floored at 1. */
  dispersion: number;
  iterations: number;
  converged: boolean;
}

/** `offset`: a known term added to the linear predictor (log exposure), one per observation. */
export function fitPoisson(x: number[][], y: number[], opts: { maxIterations?: number; tolerance?: number; offset?: number[] } = {}): GlmFit {
  const n = y.length;
  const p = x[0]?.length ?? 0;
  if (n <= p) throw new Error(`need more observations (${n}) than parameters (${p})`);
  const X = new Matrix(x);
  const maxIterations = opts.maxIterations ?? 50;
  const tolerance = opts.tolerance ?? 1e-8;
  // Start from the mean on the log scale (intercept in the first column by convention of the caller).
  const off = opts.offset ?? new Array<number>(n).fill(0);
  const mean = y.reduce((s, v) => s + v, 0) / n;
  const meanOffset = off.reduce((s, v) => s + v, 0) / n;
  let beta = new Array<number>(p).fill(0);
  beta[0] = Math.log(Math.max(mean, 1e-3)) - meanOffset;
  let converged = false;
  let iterations = 0;
  let info = Matrix.eye(p);
  for (; iterations < maxIterations; iterations++) {
    const eta = X.mmul(Matrix.columnVector(beta)).to1DArray();
    const mu = eta.map((e, i) => Math.exp(Math.min(e + off[i]!, 30)));
    // Working response z = Xβ + (y − μ)/μ (the offset stays out of it) with weights μ.
    const Xw = new Matrix(n, p);
    const zw = new Array<number>(n);
    for (let i = 0; i < n; i++) {
      const w = Math.max(mu[i]!, 1e-10);
      const sw = Math.sqrt(w);
      for (let j = 0; j < p; j++) Xw.set(i, j, x[i]![j]! * sw);
      zw[i] = (eta[i]! + (y[i]! - mu[i]!) / w) * sw;
    }
    info = Xw.transpose().mmul(Xw);
    const next = solve(info, Xw.transpose().mmul(Matrix.columnVector(zw))).to1DArray();
    const change = Math.max(...next.map((b, j) => Math.abs(b - beta[j]!)));
    beta = next;
    if (change < tolerance) {
      converged = true;
      iterations++;
      break;
    }
  }
  const mu = X.mmul(Matrix.columnVector(beta)).to1DArray().map((e, i) => Math.exp(Math.min(e + off[i]!, 30)));
  let pearson = 0;
  for (let i = 0; i < n; i++) pearson += (y[i]! - mu[i]!) ** 2 / Math.max(mu[i]!, 1e-10);
  const dispersion = Math.max(1, pearson / (n - p));
  // Information at the final β (the loop's is one step behind).
  const Xw = new Matrix(n, p);
  for (let i = 0; i < n; i++) {
    const sw = Math.sqrt(Math.max(mu[i]!, 1e-10));
    for (let j = 0; j < p; j++) Xw.set(i, j, x[i]![j]! * sw);
  }
  info = Xw.transpose().mmul(Xw);
  const cov = inverse(info);
  const se = beta.map((_, j) => Math.sqrt(Math.max(0, cov.get(j, j)) * dispersion));
  return { beta, se, dispersion, iterations, converged };
}
