// An ApiClient for tests, over functions the test writes: only the methods a test gives exist; calling another one
// fails the test with its name. Saves each test a cast of its own object literal.
import type { ApiClient } from '../k8s/api/api-client.ts';

/** The methods of ApiClient a fake may implement, loosely typed as a test writes them (no type parameters). */
export interface FakeApiMethods {
  request?: (
    method: string,
    path: string,
    body?: unknown,
    extra?: { signal?: AbortSignal; timeoutMs?: number },
  ) => Promise<unknown>;
  get?: (path: string, query?: unknown) => Promise<unknown>;
  watch?: (path: string, query: unknown, onEvent: never, signal: AbortSignal) => Promise<void>;
}

export function fakeApiClient(methods: FakeApiMethods): ApiClient {
  const missing = (name: string) => (): never => {
    throw new Error(`the fake API client has no ${name}()`);
  };
  return {
    request: methods.request ?? missing('request'),
    get: methods.get ?? missing('get'),
    watch: methods.watch ?? missing('watch'),
    close: () => undefined,
  } as unknown as ApiClient;
}
