// Expected failures as values: an operation either succeeds with a value or fails with an error that reads well
// in a log line or an Event. Exceptions are kept for bugs.

/** The outcome of an operation that can fail in an expected way. */
export type Result<T, E = string> = { ok: true; value: T } | { ok: false; error: E };

/** Wraps the value of a successful operation. */
export function ok<T>(value: T): { ok: true; value: T } {
  return { ok: true, value };
}

/** Wraps the error of an operation that failed in an expected way. */
export function err<E>(error: E): { ok: false; error: E } {
  return { ok: false, error };
}
