/**
 * Maximum likelihood for the customer models: Nelder-Mead on unconstrained (log) parameters, then
 * Newton steps with a finite-difference Hessian, whose inverse is the parameters' covariance.
 *
 * Written here because no npm optimizer fits: fmin 0.0.4 ships a UMD build under "type": "module",
 * which exports nothing to Node's ESM loader, and ml-levenberg-marquardt minimises squared residuals,
 * not a likelihood.
 */
import { inverse, Matrix } from 'ml-matrix';

export interface Optimum {
  x: number[];
  /** The function's value at x (the minimum of what was minimised). */
  value: number;
  iterations: number;
  /** Inverse Hessian of the minimised function at x (the covariance of x for a negative log-likelihood); null if not positive definite. */
  covariance: number[][] | null;
}

/** Downhill simplex (Nelder & Mead 1965) with the usual coefficients; stops when the simplex's values and points agree within `tol`. */
export function nelderMead(f: (x: number[]) => number, x0: number[], opts: { step?: number; tol?: number; maxIterations?: number } = {}): { x: number[]; value: number; iterations: number } {
  const n = x0.length;
  const step = opts.step ?? 0.5;
  const tol = opts.tol ?? 1e-10;
  const maxIterations = opts.maxIterations ?? 2000 * n;
  const evaluate = (x: number[]) => {
    const v = f(x);
    return Number.isFinite(v) ? v : Infinity;
  };
  let simplex = [x0, ...x0.map((_, i) => x0.map((v, j) => (i === j ? v + step : v)))].map((x) => ({ x, v: evaluate(x) }));
  let iterations = 0;
  for (; iterations < maxIterations; iterations++) {
    simplex.sort((a, b) => a.v - b.v);
    const best = simplex[0]!;
    const worst = simplex[n]!;
    const spread = Math.max(...simplex.map((p) => Math.max(...p.x.map((v, i) => Math.abs(v - best.x[i]!)))));
    if (Math.abs(worst.v - best.v) <= tol * (1 + Math.abs(best.v)) && spread <= Math.sqrt(tol)) break;
    const centroid = x0.map((_, i) => simplex.slice(0, n).reduce((s, p) => s + p.x[i]!, 0) / n);
    const along = (t: number) => centroid.map((c, i) => c + t * (worst.x[i]! - c));
    const reflected = { x: along(-1), v: 0 };
    reflected.v = evaluate(reflected.x);
    if (reflected.v < best.v) {
      const expanded = { x: along(-2), v: 0 };
      expanded.v = evaluate(expanded.x);
      simplex[n] = expanded.v < reflected.v ? expanded : reflected;
    } else if (reflected.v < simplex[n - 1]!.v) {
      simplex[n] = reflected;
    } else {
      const outside = reflected.v < worst.v;
      const contracted = { x: along(outside ? -0.5 : 0.5), v: 0 };
      contracted.v = evaluate(contracted.x);
      if (contracted.v < (outside ? reflected.v : worst.v)) {
        simplex[n] = contracted;
      } else {
        simplex = simplex.map((p, k) => (k === 0 ? p : { x: p.x.map((v, i) => best.x[i]! + 0.5 * (v - best.x[i]!)), v: 0 }));
        for (let k = 1; k <= n; k++) simplex[k]!.v = evaluate(simplex[k]!.x);
      }
    }
  }
  simplex.sort((a, b) => a.v - b.v);
  return { x: simplex[0]!.x, value: simplex[0]!.v, iterations };
}

/** Central-difference gradient and Hessian of f at x (step h per coordinate). */
export function derivatives(f: (x: number[]) => number, x: number[], h = 1e-4): { gradient: number[]; hessian: number[][] } {
  const n = x.length;
  const at = (d: Record<number, number>) => f(x.map((v, i) => v + (d[i] ?? 0)));
  const f0 = f(x);
  const gradient = new Array<number>(n);
  const hessian = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let i = 0; i < n; i++) {
    const up = at({ [i]: h });
    const down = at({ [i]: -h });
    gradient[i] = (up - down) / (2 * h);
    hessian[i]![i] = (up - 2 * f0 + down) / (h * h);
    for (let j = 0; j < i; j++) {
      const v = (at({ [i]: h, [j]: h }) - at({ [i]: h, [j]: -h }) - at({ [i]: -h, [j]: h }) + at({ [i]: -h, [j]: -h })) / (4 * h * h);
      hessian[i]![j] = v;
      hessian[j]![i] = v;
    }
  }
  return { gradient, hessian };
}

function positiveDefinite(m: number[][]): boolean {
  try {
    const inv = inverse(new Matrix(m));
    return m.every((_, i) => inv.get(i, i) > 0);
  } catch {
    return false;
  }
}

/**
 * Minimises f: a simplex search to near the optimum, then Newton steps with the finite-difference
 * Hessian (each accepted only if it lowers f) until the step is negligible, and the covariance from
 * the Hessian there. A second simplex search runs only if Newton cannot start (the Hessian not yet
 * positive definite). Each Hessian costs 1 + 2n² evaluations, so the simplex does the coarse work.
 */
export function minimize(f: (x: number[]) => number, x0: number[], opts: { newtonSteps?: number; simplex?: boolean } = {}): Optimum {
  // From a start already near the optimum (a fit on a subsample), Newton alone gets there.
  let best = opts.simplex === false ? { x: x0, value: f(x0), iterations: 0 } : nelderMead(f, x0, { tol: 1e-9 });
  let { x, value } = best;
  let d = derivatives(f, x);
  if (!positiveDefinite(d.hessian)) {
    best = nelderMead(f, x, { step: 0.1, tol: 1e-12 });
    ({ x, value } = best);
    d = derivatives(f, x);
  }
  for (let k = 0; k < (opts.newtonSteps ?? 6) && positiveDefinite(d.hessian); k++) {
    const step = inverse(new Matrix(d.hessian)).mmul(Matrix.columnVector(d.gradient)).to1DArray();
    const candidate = x.map((v, i) => v - step[i]!);
    const cv = f(candidate);
    if (!(cv <= value)) break;
    x = candidate;
    value = cv;
    d = derivatives(f, x);
    if (Math.max(...step.map(Math.abs)) < 1e-7) break;
  }
  const covariance = positiveDefinite(d.hessian) ? inverse(new Matrix(d.hessian)).to2DArray() : null;
  return { x, value, iterations: best.iterations, covariance };
}
