// Go-style durations (90s, 1m30s, 250ms, 1.5h) to milliseconds.
import { err, ok, type Result } from './result.ts';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses a non-negative duration; the result is in milliseconds. */
export function parseDuration(text: string): Result<number> {
  const pattern = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
  let total = 0;
  let consumed = 0;
  for (const match of text.matchAll(pattern)) {
    if (match.index !== consumed) break;
    total += Number(match[1]) * (UNIT_MS[match[2] ?? ''] ?? Number.NaN);
    consumed += match[0].length;
  }
  if (text.length === 0 || consumed !== text.length || !Number.isFinite(total)) {
    return err(`"${text}" is not a duration (write e.g. 90s, 1m30s or 250ms)`);
  }
  return ok(total);
}
