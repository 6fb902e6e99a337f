// Keeps the node's interface table current: read once at open, read again after link, address and default-route
// notifications. At most one read runs at a time; notifications during a read are coalesced into one more read
// after it (that read may have started before the change it was woken for, so it cannot be the last word).
import { err, ok, type Result } from '../core/result.ts';
import { readInterfaceTable, type InterfaceTable } from './network-interfaces.ts';
import { RtnetlinkRequests, watchRtnetlink, type RtnetlinkChange } from './rtnetlink.ts';

export interface InterfaceTableSource {
  read(): Promise<Result<InterfaceTable>>;
  /** Calls `onChange` on every change notification until the returned function is called. */
  watch(onChange: (change: RtnetlinkChange) => void): Result<() => void>;
  close(): void;
}

export interface InterfaceTableFollowerOptions {
  /** A new table was read (after a change). */
  onUpdate: (table: InterfaceTable) => void;
  /** A read failed; the table stays as it was until the next change. */
  onError: (reason: string) => void;
}

/** The node's own interfaces over rtnetlink (the process's network namespace). */
export function rtnetlinkSource(): InterfaceTableSource {
  const requests = new RtnetlinkRequests();
  return {
    read: () => readInterfaceTable(requests),
    watch: watchRtnetlink,
    close: () => {
      requests.close();
    },
  };
}

export class InterfaceTableFollower {
  readonly #source: InterfaceTableSource;
  readonly #options: InterfaceTableFollowerOptions;
  #table: InterfaceTable = { interfaces: [], defaultRoute: {} };
  #stopWatching: () => void = () => {};
  /** A read is running (the first one from open() on). */
  #reading = true;
  /** A change arrived during the running read. */
  #again = false;
  #closed = false;

  private constructor(source: InterfaceTableSource, options: InterfaceTableFollowerOptions) {
    this.#source = source;
    this.#options = options;
  }

  /** Subscribes first, then reads, so no change between the two is missed. */
  static async open(
    source: InterfaceTableSource,
    options: InterfaceTableFollowerOptions,
  ): Promise<Result<InterfaceTableFollower>> {
    const follower = new InterfaceTableFollower(source, options);
    const watching = source.watch(() => {
      follower.#changed();
    });
    if (!watching.ok) {
      source.close();
      return watching;
    }
    follower.#stopWatching = watching.value;
    const first = await source.read();
    if (!first.ok) {
      follower.close();
      return err(first.error);
    }
    follower.#table = first.value;
    follower.#reading = false;
    if (follower.#changedDuringRead()) follower.#changed();
    return ok(follower);
  }

  /** The table as last read. */
  table(): InterfaceTable {
    return this.#table;
  }

  close(): void {
    this.#closed = true;
    this.#stopWatching();
    this.#source.close();
  }

  #changed(): void {
    if (this.#closed) return;
    if (this.#reading) {
      this.#again = true;
      return;
    }
    this.#reading = true;
    void this.#readUntilQuiet();
  }

  /** Whether a change arrived since the last call (and forgets it). */
  #changedDuringRead(): boolean {
    const again = this.#again;
    this.#again = false;
    return again;
  }

  async #readUntilQuiet(): Promise<void> {
    do {
      const fresh = await this.#source.read();
      if (this.#closed) return;
      if (!fresh.ok) {
        this.#options.onError(fresh.error);
        continue;
      }
      this.#table = fresh.value;
      try {
        this.#options.onUpdate(fresh.value);
      } catch (error) {
        // A bug in a consumer: reported like a failed read, and the follower keeps following.
        this.#options.onError(
          `applying the interface table: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
    } while (this.#changedDuringRead());
    this.#reading = false;
  }
}
