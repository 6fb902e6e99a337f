// Least-squares fits for extrapolating measured costs past the sizes one machine can carry: cost = Σ coefficient
// × feature, solved by the normal equations (a handful of points and features, so plain Gaussian elimination).

/** The coefficients c minimising Σ (Σ_j c_j x_ij − y_i)²; rows are points, columns features. */
export function leastSquares(rows: readonly (readonly number[])[], ys: readonly number[]): number[] {
  const k = rows[0]?.length ?? 0;
  if (rows.length < k || k === 0) throw new Error(`need at least ${k} points for ${k} features, have ${rows.length}`);
  // A = XᵀX (k × k), b = Xᵀy, augmented as [A | b].
  const m = Array.from({ length: k }, (_, i) => [
    ...Array.from({ length: k }, (_, j) => rows.reduce((s, r) => s + r[i]! * r[j]!, 0)),
    rows.reduce((s, r, n) => s + r[i]! * ys[n]!, 0),
  ]);
  for (let col = 0; col < k; col++) {
    let pivot = col;
    for (let r = col + 1; r < k; r++) if (Math.abs(m[r]![col]!) > Math.abs(m[pivot]![col]!)) pivot = r;
    [m[col], m[pivot]] = [m[pivot]!, m[col]!];
    const p = m[col]![col]!;
    if (Math.abs(p) < 1e-300) throw new Error('features are linearly dependent');
    for (let r = 0; r < k; r++) {
      if (r === col) continue;
      const f = m[r]![col]! / p;
      for (let c = col; c <= k; c++) m[r]![c]! -= f * m[col]![c]!;
    }
  }
  return m.map((row, i) => row[k]! / row[i]!);
}

/** Σ c_j x_j. */
export function predict(coefficients: readonly number[], features: readonly number[]): number {
  return coefficients.reduce((s, c, j) => s + c * features[j]!, 0);
}
