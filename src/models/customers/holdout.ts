/** Scores of the customer model against what happened after a calibration cut-off. */

/**
 * Area under the ROC curve of `score` for predicting `positive` (Mann-Whitney, ties counted half):
 * the chance a random positive scores above a random negative. Null without both classes.
 */
export function auc(score: ArrayLike<number>, positive: ArrayLike<boolean>): number | null {
  const idx = Array.from({ length: score.length }, (_, i) => i).sort((a, b) => score[a]! - score[b]!);
  let pos = 0;
  let rankSum = 0;
  for (let i = 0; i < idx.length; ) {
    let j = i;
    while (j + 1 < idx.length && score[idx[j + 1]!] === score[idx[i]!]) j++;
    const midRank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) {
      if (positive[idx[k]!]) {
        pos++;
        rankSum += midRank;
      }
    }
    i = j + 1;
  }
  const neg = idx.length - pos;
  if (pos === 0 || neg === 0) return null;
  return (rankSum - (pos * (pos + 1)) / 2) / (pos * neg);
}

export interface FrequencyGroup {
  /** Repeat purchases in calibration ("6+" for six or more). */
  x: string;
  customers: number;
  predicted: number;
  actual: number;
}

/** Predicted and actual holdout purchases summed by calibration frequency (0…5, 6+). */
export function byFrequency(x: ArrayLike<number>, predicted: ArrayLike<number>, actual: ArrayLike<number>, top = 6): FrequencyGroup[] {
  const groups = Array.from({ length: top + 1 }, (_, i) => ({ x: i === top ? `${top}+` : String(i), customers: 0, predicted: 0, actual: 0 }));
  for (let i = 0; i < x.length; i++) {
    const g = groups[Math.min(top, x[i]!)]!;
    g.customers++;
    g.predicted += predicted[i]!;
    g.actual += actual[i]!;
  }
  return groups.filter((g) => g.customers > 0);
}
