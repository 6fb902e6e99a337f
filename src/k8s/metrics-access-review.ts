// Who may read the speaker's metrics over the network, decided by the API server as kube-rbac-proxy does, in process:
// the request's bearer token goes to a TokenReview (authentication.k8s.io/v1), the user it names to a
// SubjectAccessReview (authorization.k8s.io/v1) for `get` on the non-resource URL /metrics. So a ServiceAccount (or
// user) with a ClusterRole allowing that, e.g. Prometheus's, may scrape; nobody else. Decisions are cached briefly per
// token hash (bounded), so each scrape does not cost the API server two writes; an API error refuses (503). Reviews
// of tokens not in the cache are rate-limited (429 above the limit): a client sending a new made-up token with each
// request must not turn every speaker into a stream of TokenReviews against the API server.
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Clock } from '../core/clock.ts';
import { TokenBucket } from '../core/token-bucket.ts';
import type { AccessDecision } from '../platform/metrics-server.ts';
import type { ApiClient } from './api/api-client.ts';

export interface MetricsAccessReviewOptions {
  readonly client: Pick<ApiClient, 'request'>;
  readonly clock: Clock;
  /** The non-resource path and verb the caller must be allowed (default: get /metrics). */
  readonly path?: string;
  /** How long a decision is reused (default 60 s). */
  readonly cacheMs?: number;
  /** At most this many decisions are kept (default 256; the oldest go first). */
  readonly cacheEntries?: number;
  /** Reviews per second sent to the API server (default 5, bursts of 10); above it, 429. */
  readonly reviewsPerSecond?: number;
}

interface TokenReview {
  status?: {
    authenticated?: boolean;
    error?: string;
    user?: { username?: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> };
  };
}

interface SubjectAccessReview {
  status?: { allowed?: boolean; denied?: boolean; reason?: string; evaluationError?: string };
}

export class MetricsAccessReview {
  readonly #client: Pick<ApiClient, 'request'>;
  readonly #clock: Clock;
  readonly #path: string;
  readonly #cacheMs: number;
  readonly #cacheEntries: number;
  readonly #cache = new Map<string, { decision: AccessDecision; until: number }>();
  readonly #reviews: TokenBucket;

  constructor(options: MetricsAccessReviewOptions) {
    this.#client = options.client;
    this.#clock = options.clock;
    this.#path = options.path ?? '/metrics';
    this.#cacheMs = options.cacheMs ?? 60_000;
    this.#cacheEntries = options.cacheEntries ?? 256;
    const rate = options.reviewsPerSecond ?? 5;
    this.#reviews = new TokenBucket(rate, rate * 2, options.clock.now());
  }

  /** The decision for one HTTP request (its Authorization header). */
  async decide(request: IncomingMessage): Promise<AccessDecision> {
    const header = request.headers.authorization;
    const match = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
    const token = match?.[1];
    if (!token) return { allowed: false, status: 401, reason: 'Unauthorized: a bearer token is required' };
    const key = createHash('sha256').update(token).digest('hex');
    const now = this.#clock.now();
    const cached = this.#cache.get(key);
    if (cached && cached.until > now) return cached.decision;
    if (!this.#reviews.take(now))
      return { allowed: false, status: 429, reason: 'Too many requests: token reviews are rate-limited' };
    const decision = await this.#review(token);
    if (decision.allowed || decision.status === 401 || decision.status === 403) this.#remember(key, decision, now);
    return decision;
  }

  /** How many decisions are cached (bounded by cacheEntries). */
  get cached(): number {
    return this.#cache.size;
  }

  async #review(token: string): Promise<AccessDecision> {
    let review: TokenReview;
    try {
      review = await this.#client.request<TokenReview>('POST', '/apis/authentication.k8s.io/v1/tokenreviews', {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenReview',
        spec: { token },
      });
    } catch (error) {
      return { allowed: false, status: 503, reason: `cannot review the token: ${(error as Error).message}` };
    }
    const user = review.status?.user;
    if (!review.status?.authenticated || !user?.username) {
      return {
        allowed: false,
        status: 401,
        reason: `Unauthorized: ${review.status?.error ?? 'the token is not valid'}`,
      };
    }
    const path = this.#path;
    let access: SubjectAccessReview;
    try {
      access = await this.#client.request<SubjectAccessReview>(
        'POST',
        '/apis/authorization.k8s.io/v1/subjectaccessreviews',
        {
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SubjectAccessReview',
          spec: {
            user: user.username,
            ...(user.uid ? { uid: user.uid } : {}),
            ...(user.groups ? { groups: user.groups } : {}),
            ...(user.extra ? { extra: user.extra } : {}),
            nonResourceAttributes: { path, verb: 'get' },
          },
        },
      );
    } catch (error) {
      return { allowed: false, status: 503, reason: `cannot review access: ${(error as Error).message}` };
    }
    if (access.status?.allowed === true) return { allowed: true, user: user.username };
    const why = access.status?.reason ?? access.status?.evaluationError;
    return {
      allowed: false,
      status: 403,
      reason: `Forbidden: ${user.username} may not get ${path}${why ? ` (${why})` : ''}`,
    };
  }

  #remember(key: string, decision: AccessDecision, now: number): void {
    const limit = this.#cacheEntries;
    this.#cache.delete(key);
    while (this.#cache.size >= limit) {
      const oldest = this.#cache.keys().next();
      if (oldest.done) break;
      this.#cache.delete(oldest.value);
    }
    this.#cache.set(key, { decision, until: now + this.#cacheMs });
  }
}
