// A small Kubernetes API client on node:https: JSON requests with typed errors, and watches as streams of
// newline-delimited JSON events. Keep-alive connections; every request is bounded by a timeout.
import { Agent, request, type RequestOptions } from 'node:https';
import type { IncomingMessage } from 'node:http';
import type { Connection } from './kube-config.ts';
import { ApiError } from './api-error.ts';

export type Query = Record<string, string | number | boolean | undefined>;

export interface RequestOptionsExtra {
  query?: Query;
  contentType?: 'application/json' | 'application/merge-patch+json' | 'application/apply-patch+yaml';
  timeoutMs?: number;
  signal?: AbortSignal;
  /** The Accept header (default application/json), e.g. the PartialObjectMetadata form of JSON. */
  accept?: string;
}

export interface WatchEvent<T> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T;
}

const MERGE_PATCH = 'application/merge-patch+json';

function withQuery(path: string, query: Query | undefined): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v));
  const text = params.toString();
  return text ? `${path}${path.includes('?') ? '&' : '?'}${text}` : path;
}

async function readBody(res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function statusError(code: number, body: string): ApiError {
  try {
    const status = JSON.parse(body) as { reason?: string; message?: string };
    return new ApiError(code, status.reason ?? 'Unknown', status.message ?? body.slice(0, 300));
  } catch {
    return new ApiError(code, 'Unknown', body.slice(0, 300));
  }
}

export class ApiClient {
  readonly #connection: Connection;
  readonly #agent: Agent;
  readonly userAgent: string;

  constructor(connection: Connection, userAgent = 'beaconlb') {
    this.#connection = connection;
    this.userAgent = userAgent;
    this.#agent = new Agent({
      keepAlive: true,
      maxSockets: 256,
      ...(connection.ca ? { ca: connection.ca } : {}),
      ...(connection.cert ? { cert: connection.cert } : {}),
      ...(connection.key ? { key: connection.key } : {}),
      rejectUnauthorized: !connection.insecureSkipTlsVerify,
    });
  }

  #options(method: string, path: string, contentType: string | undefined, accept = 'application/json'): RequestOptions {
    const url = this.#connection.server;
    const token = this.#connection.token();
    return {
      method,
      host: url.hostname.replace(/^\[|\]$/g, ''),
      port: url.port || 443,
      path,
      agent: this.#agent,
      headers: {
        Accept: accept,
        'User-Agent': this.userAgent,
        ...(contentType ? { 'Content-Type': contentType } : {}),
        ...(token ? { Authorization: `Bearer ${token}` } : {}),
      },
    };
  }

  /** One request; resolves with the decoded JSON answer, rejects with an ApiError. */
  request<T>(
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
    path: string,
    body?: unknown,
    extra: RequestOptionsExtra = {},
  ): Promise<T> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const contentType =
      payload === undefined
        ? undefined
        : (extra.contentType ?? (method === 'PATCH' ? MERGE_PATCH : 'application/json'));
    return new Promise<T>((resolve, reject) => {
      const req = request(this.#options(method, withQuery(path, extra.query), contentType, extra.accept), (res) => {
        readBody(res).then(
          (text) => {
            const code = res.statusCode ?? 0;
            if (code >= 200 && code < 300) {
              try {
                resolve((text ? JSON.parse(text) : {}) as T);
              } catch (error) {
                reject(
                  new ApiError(code, 'InvalidResponse', `could not decode the answer: ${(error as Error).message}`),
                );
              }
            } else reject(statusError(code, text));
          },
          (error: unknown) => {
            reject(ApiError.from(error));
          },
        );
      });
      req.setTimeout(extra.timeoutMs ?? 30_000, () =>
        req.destroy(new ApiError(0, 'Timeout', `${method} ${path} timed out`)),
      );
      req.on('error', (error) => {
        reject(ApiError.from(error));
      });
      if (extra.signal) {
        if (extra.signal.aborted) req.destroy(new ApiError(0, 'Aborted', 'aborted'));
        else
          extra.signal.addEventListener('abort', () => req.destroy(new ApiError(0, 'Aborted', 'aborted')), {
            once: true,
          });
      }
      if (payload !== undefined) req.write(payload);
      req.end();
    });
  }

  get<T>(path: string, query?: Query): Promise<T> {
    return this.request<T>('GET', path, undefined, query ? { query } : {});
  }

  /**
   * Watches `path` (a collection) from `resourceVersion`; calls `onEvent` per event until the server ends the
   * stream (resolves) or it fails (rejects with an ApiError; code 410 means the version is too old: relist).
   */
  watch<T>(path: string, query: Query, onEvent: (event: WatchEvent<T>) => void, signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const req = request(this.#options('GET', withQuery(path, { ...query, watch: true }), undefined), (res) => {
        const code = res.statusCode ?? 0;
        if (code !== 200) {
          readBody(res).then((text) => {
            reject(statusError(code, text));
          }, reject);
          return;
        }
        res.setEncoding('utf8');
        let buffer = '';
        res.on('data', (chunk: string) => {
          buffer += chunk;
          let newline = buffer.indexOf('\n');
          while (newline >= 0) {
            const line = buffer.slice(0, newline);
            buffer = buffer.slice(newline + 1);
            if (line.trim()) {
              let event: WatchEvent<T>;
              try {
                event = JSON.parse(line) as WatchEvent<T>;
              } catch {
                req.destroy(new ApiError(0, 'InvalidResponse', 'undecodable watch event'));
                return;
              }
              if (event.type === 'ERROR') {
                const status = event.object as { code?: number; reason?: string; message?: string };
                req.destroy(
                  new ApiError(status.code ?? 500, status.reason ?? 'Unknown', status.message ?? 'watch error'),
                );
                return;
              }
              onEvent(event);
            }
            newline = buffer.indexOf('\n');
          }
        });
        res.on('end', () => {
          resolve();
        });
        res.on('error', (error) => {
          reject(ApiError.from(error));
        });
      });
      req.on('error', (error) => {
        reject(ApiError.from(error));
      });
      // A watch with no traffic at all (not even bookmarks) for this long is presumed dead.
      req.setTimeout(120_000, () => req.destroy(new ApiError(0, 'Timeout', `watch ${path} went silent`)));
      if (signal.aborted) req.destroy(new ApiError(0, 'Aborted', 'aborted'));
      signal.addEventListener('abort', () => req.destroy(new ApiError(0, 'Aborted', 'aborted')), { once: true });
      req.end();
    });
  }

  close(): void {
    this.#agent.destroy();
  }
}
