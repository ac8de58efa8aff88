// Small helpers for the benchmarks' printed figures.

/** The p-th percentile of `xs` (nearest rank); 0 for no values. */
export const percentile = (xs: readonly number[], p: number): number => {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};

/** Milliseconds to one decimal. */
export const ms = (x: number): number => Math.round(x * 10) / 10;
