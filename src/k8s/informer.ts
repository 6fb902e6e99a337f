// A watch-backed cache of one resource that keeps itself alive: client-node's informer stops on any error other
// than 410 Gone, so this one restarts it with exponential backoff (relisting as needed) until stopped.
import { ListWatch, Watch, type KubeConfig, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import type { Clock, Timer } from '../core/clock.ts';
import type { Logger } from '../platform/logger.ts';
import { describeApiError } from './kube-client.ts';

export type ChangeKind = 'add' | 'update' | 'delete';

export interface InformerOptions<T extends KubernetesObject> {
  kc: KubeConfig;
  /** The watch path, such as /api/v1/services. */
  path: string;
  list: () => Promise<KubernetesListObject<T>>;
  clock: Clock;
  log: Logger;
  onChange?: (obj: T, kind: ChangeKind) => void;
  /** Called after every (re)connection's list, so consumers can reconcile everything. */
  onResync?: () => void;
  labelSelector?: string;
}

export class Informer<T extends KubernetesObject> {
  readonly #o: InformerOptions<T>;
  readonly #lw: ListWatch<T>;
  #stopped = false;
  #restartTimer: Timer | undefined;
  #failures = 0;
  #synced = false;
  readonly synced: Promise<void>;
  #resolveSynced: () => void = () => undefined;

  constructor(options: InformerOptions<T>) {
    this.#o = options;
    this.synced = new Promise((resolve) => (this.#resolveSynced = resolve));
    this.#lw = new ListWatch<T>(options.path, new Watch(options.kc), options.list, false, options.labelSelector);
    const emit = (kind: ChangeKind) => (obj: T) => options.onChange?.(obj, kind);
    this.#lw.on('add', emit('add'));
    this.#lw.on('update', emit('update'));
    this.#lw.on('delete', emit('delete'));
    this.#lw.on('connect', () => {
      this.#failures = 0;
    });
    this.#lw.on('error', (error: unknown) => {
      this.#scheduleRestart(error);
    });
  }

  get hasSynced(): boolean {
    return this.#synced;
  }

  start(): void {
    this.#stopped = false;
    void this.#start();
  }

  async #start(): Promise<void> {
    try {
      await this.#lw.start();
      if (!this.#synced) {
        this.#synced = true;
        this.#resolveSynced();
      }
      this.#o.onResync?.();
    } catch (error) {
      this.#scheduleRestart(error);
    }
  }

  #scheduleRestart(error: unknown): void {
    if (this.#stopped || this.#restartTimer) return;
    this.#failures++;
    const delay = Math.min(30_000, 200 * 2 ** Math.min(this.#failures - 1, 8));
    this.#o.log.warn({ path: this.#o.path, err: describeApiError(error), retryMs: delay }, 'watch failed; restarting');
    this.#restartTimer = this.#o.clock.after(delay, () => {
      this.#restartTimer = undefined;
      if (!this.#stopped) void this.#start();
    });
  }

  stop(): void {
    this.#stopped = true;
    this.#restartTimer?.cancel();
    void this.#lw.stop();
  }

  get(name: string, namespace?: string): T | undefined {
    return this.#lw.get(name, namespace);
  }

  list(namespace?: string): readonly T[] {
    return this.#lw.list(namespace);
  }
}
