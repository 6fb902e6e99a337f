// Records core/v1 Events on objects; repeated identical Events within a minute are counted into one (as the
// kubelet's recorder does) so a hot loop can never flood the API server.
import type { CoreV1Api } from '@kubernetes/client-node';
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../platform/logger.ts';
import { describeApiError } from './kube-client.ts';

export interface EventTarget {
  apiVersion: string;
  kind: string;
  name: string;
  namespace: string | undefined;
  uid: string | undefined;
}

export class EventRecorder {
  readonly #core: CoreV1Api;
  readonly #component: string;
  readonly #host: string;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #recent = new Map<string, number>();
  /** Events of cluster-scoped objects go here. */
  readonly #defaultNamespace: string;

  constructor(options: { core: CoreV1Api; component: string; host: string; clock: Clock; log: Logger; defaultNamespace: string }) {
    this.#core = options.core;
    this.#component = options.component;
    this.#host = options.host;
    this.#clock = options.clock;
    this.#log = options.log;
    this.#defaultNamespace = options.defaultNamespace;
  }

  record(target: EventTarget, type: 'Normal' | 'Warning', reason: string, message: string): void {
    const key = `${target.kind}/${target.namespace ?? ''}/${target.name}/${reason}/${message}`;
    const now = this.#clock.now();
    const last = this.#recent.get(key);
    if (last !== undefined && now - last < 60_000) return;
    this.#recent.set(key, now);
    if (this.#recent.size > 10_000) {
      for (const [k, t] of this.#recent) if (now - t > 60_000) this.#recent.delete(k);
    }
    const namespace = target.namespace ?? this.#defaultNamespace;
    const time = this.#clock.wallTime();
    void this.#core
      .createNamespacedEvent({
        namespace,
        body: {
          metadata: { generateName: `${target.name}.`, namespace },
          involvedObject: {
            apiVersion: target.apiVersion,
            kind: target.kind,
            name: target.name,
            ...(target.namespace ? { namespace: target.namespace } : {}),
            ...(target.uid ? { uid: target.uid } : {}),
          },
          type,
          reason,
          message: message.slice(0, 1024),
          source: { component: this.#component, host: this.#host },
          reportingComponent: this.#component,
          reportingInstance: this.#host,
          firstTimestamp: time,
          lastTimestamp: time,
          count: 1,
        },
      })
      .catch((error: unknown) => {
        this.#log.debug({ err: describeApiError(error), reason }, 'could not record event');
      });
  }
}
