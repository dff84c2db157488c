/**
 * log ₂F₁(a, b; c; z) for a, b, c > 0 and 0 ≤ z < 1 by its power series, summed in log space: the
 * BG/NBD expectations need it with a and b growing with a customer's purchase count, where the terms
 * first grow by orders of magnitude before they shrink. No npm package provides it.
 */
export function logHyp2f1(a: number, b: number, c: number, z: number): number {
  if (!(a > 0 && b > 0 && c > 0)) throw new RangeError(`logHyp2f1 needs a, b, c > 0 (got ${a}, ${b}, ${c})`);
  if (!(z >= 0 && z < 1)) throw new RangeError(`logHyp2f1 needs 0 <= z < 1 (got ${z})`);
  if (z === 0) return 0;
  const lz = Math.log(z);
  // Σ exp(logTerm_n − scale) = sum, rescaled whenever a term outgrows the running scale.
  let logTerm = 0;
  let scale = 0;
  let sum = 1;
  for (let n = 0; ; n++) {
    // z this close to 1 with these a, b needs more terms than any customer warrants: no answer, not a wrong one.
    if (n === 1_000_000) return NaN;
    const ratio = ((a + n) * (b + n)) / ((c + n) * (n + 1)) * z;
    logTerm += Math.log(ratio);
    if (logTerm > scale) {
      sum = sum * Math.exp(scale - logTerm) + 1;
      scale = logTerm;
    } else {
      const t = Math.exp(logTerm - scale);
      sum += t;
      // The ratio of successive terms tends to z, from either side: once it is below 1, later ones are
      // at most q = max(ratio, z) and the tail is below t·q/(1 − q).
      const q = Math.max(ratio, z);
      if (ratio < 1 && (t * q) / (1 - q) < 1e-17 * sum) return scale + Math.log(sum);
    }
  }
}
