// Go time.Duration text, as MetalLB's metav1.Duration fields hold it.
import { err, ok, type Result } from '../../result.ts';

/** A Go time.Duration text (as metav1.Duration holds) in milliseconds; may be negative. */
export function parseGoDuration(text: string): Result<number> {
  const units: Record<string, number> = {
    ns: 1e-6,
    us: 1e-3,
    µs: 1e-3,
    μs: 1e-3,
    ms: 1,
    s: 1000,
    m: 60_000,
    h: 3_600_000,
  };
  let rest = text;
  let sign = 1;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    sign = rest.startsWith('-') ? -1 : 1;
    rest = rest.slice(1);
  }
  if (rest === '0') return ok(0);
  if (rest === '') return err(`"${text}" is not a duration`);
  let total = 0;
  const part = /^(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/u;
  while (rest !== '') {
    const m = part.exec(rest);
    if (!m?.[1] || !m[2]) return err(`"${text}" is not a duration (write e.g. 90s or 1m30s)`);
    total += Number(m[1]) * (units[m[2]] ?? Number.NaN);
    rest = rest.slice(m[0].length);
  }
  return Number.isFinite(total) ? ok(sign * total) : err(`"${text}" is not a duration`);
}
