// The decision logic and its cache, with an API server stand-in that answers TokenReview and SubjectAccessReview as
// the real one does (the real one: e2e/speaker-metrics-auth.test.ts).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { ManualClock } from '../test-support/manual-clock.ts';
import { ApiError } from './api/api-error.ts';
import { MetricsAccessReview } from './metrics-access-review.ts';

const request = (authorization?: string): IncomingMessage =>
  ({ headers: authorization === undefined ? {} : { authorization } }) as IncomingMessage;

/** Tokens "user:<name>" authenticate as <name>; only "prometheus" may get /metrics; "down" makes the server fail. */
function apiServer(): {
  calls: string[];
  client: { request: <T>(method: string, path: string, body?: unknown) => Promise<T> };
} {
  const calls: string[] = [];
  return {
    calls,
    client: {
      request: <T>(_method: string, path: string, body?: unknown): Promise<T> => {
        const spec = (
          body as { spec: { token?: string; user?: string; nonResourceAttributes?: { path: string; verb: string } } }
        ).spec;
        calls.push(path.split('/').pop() ?? path);
        if (path.endsWith('/tokenreviews')) {
          if (spec.token === 'down') return Promise.reject(new ApiError(0, 'Timeout', 'connect timed out'));
          const name = spec.token?.startsWith('user:') ? spec.token.slice(5) : undefined;
          return Promise.resolve(
            (name
              ? { status: { authenticated: true, user: { username: name, groups: ['system:authenticated'] } } }
              : { status: { authenticated: false, error: 'invalid bearer token' } }) as T,
          );
        }
        const allowed =
          spec.user === 'prometheus' &&
          spec.nonResourceAttributes?.path === '/metrics' &&
          spec.nonResourceAttributes.verb === 'get';
        return Promise.resolve({ status: { allowed, ...(allowed ? {} : { reason: 'no RBAC rule' }) } } as T);
      },
    },
  };
}

describe('MetricsAccessReview', () => {
  it('401 without a bearer token, before asking the API server', async () => {
    const api = apiServer();
    const review = new MetricsAccessReview({ client: api.client, clock: new ManualClock() });
    for (const header of [undefined, '', 'Basic dXNlcjpwdw==', 'Bearer ']) {
      const decision = await review.decide(request(header));
      assert.deepEqual(decision.allowed ? 'allowed' : decision.status, 401, String(header));
    }
    assert.deepEqual(api.calls, []);
  });

  it('401 for a token the API server rejects, 403 without get on /metrics, allowed with it', async () => {
    const api = apiServer();
    const review = new MetricsAccessReview({ client: api.client, clock: new ManualClock() });
    assert.deepEqual(await review.decide(request('Bearer forged')), {
      allowed: false,
      status: 401,
      reason: 'Unauthorized: invalid bearer token',
    });
    assert.deepEqual(await review.decide(request('Bearer user:stranger')), {
      allowed: false,
      status: 403,
      reason: 'Forbidden: stranger may not get /metrics (no RBAC rule)',
    });
    assert.deepEqual(await review.decide(request('Bearer user:prometheus')), { allowed: true, user: 'prometheus' });
  });

  it('reuses a decision for a minute, then asks again', async () => {
    const api = apiServer();
    const clock = new ManualClock();
    const review = new MetricsAccessReview({ client: api.client, clock });
    await review.decide(request('Bearer user:prometheus'));
    clock.advance(59_000);
    await review.decide(request('Bearer user:prometheus'));
    assert.equal(api.calls.length, 2, 'one TokenReview and one SubjectAccessReview');
    clock.advance(2_000);
    await review.decide(request('Bearer user:prometheus'));
    assert.equal(api.calls.length, 4);
  });

  it('refuses with 503 when the API server cannot be asked, and does not remember that', async () => {
    const api = apiServer();
    const review = new MetricsAccessReview({ client: api.client, clock: new ManualClock() });
    const decision = await review.decide(request('Bearer down'));
    assert.equal(decision.allowed ? 'allowed' : decision.status, 503);
    await review.decide(request('Bearer down'));
    assert.equal(api.calls.length, 2, 'asked again');
    assert.equal(review.cached, 0);
  });

  it('keeps at most cacheEntries decisions however many tokens arrive', async () => {
    const api = apiServer();
    const review = new MetricsAccessReview({
      client: api.client,
      clock: new ManualClock(),
      cacheEntries: 16,
      reviewsPerSecond: 1000,
    });
    for (let i = 0; i < 100; i++) await review.decide(request(`Bearer user:u${i}`));
    assert.equal(review.cached, 16);
  });

  it('rate-limits reviews of new tokens (429), so made-up tokens cannot flood the API server; cached ones still pass', async () => {
    const api = apiServer();
    const clock = new ManualClock();
    const review = new MetricsAccessReview({ client: api.client, clock, reviewsPerSecond: 5 });
    assert.equal((await review.decide(request('Bearer user:prometheus'))).allowed, true);
    const statuses: Array<number | 'allowed'> = [];
    for (let i = 0; i < 50; i++) {
      const decision = await review.decide(request(`Bearer forged-${i}`));
      statuses.push(decision.allowed ? 'allowed' : decision.status);
    }
    assert.equal(statuses.filter((s) => s === 401).length, 9, 'the burst of 10, one spent on prometheus');
    assert.equal(statuses.filter((s) => s === 429).length, 41);
    assert.ok(api.calls.length <= 2 + 9, `${api.calls.length} API calls`);
    assert.equal(
      (await review.decide(request('Bearer user:prometheus'))).allowed,
      true,
      'a cached decision needs no review',
    );
    clock.advance(1000);
    assert.equal((await review.decide(request('Bearer forged-again'))).allowed ? 'allowed' : 'refused', 'refused');
  });
});
