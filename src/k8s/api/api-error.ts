// An error answer of the API server (a metav1.Status), or a transport failure (code 0).
export class ApiError extends Error {
  readonly code: number;
  readonly reason: string;

  constructor(code: number, reason: string, message: string) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.reason = reason;
  }

  static from(error: unknown): ApiError {
    if (error instanceof ApiError) return error;
    return new ApiError(0, 'Transport', error instanceof Error ? error.message : String(error));
  }
}

/** The HTTP status of an API error; 0 for transport failures. */
export const errorCode = (error: unknown): number => (error instanceof ApiError ? error.code : 0);

/** A short, secret-free description for logs and Events. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError)
    return error.code ? `HTTP ${error.code} ${error.reason}: ${error.message}` : error.message;
  return error instanceof Error ? error.message : String(error);
}
