// The API side of one speaker's ServiceAnnouncement records (ADR 0024): a watch-backed cache of the records labelled
// with this node, and the writes. A record is named <service>.<node> in the Service's namespace, labelled with the
// node and the Service, and owned by the Service (ownerReference: the garbage collector deletes it with the
// Service). It is written by server-side apply (one request creates or replaces it) and deleted by name; the
// admission policy beaconlb-speaker-announcements lets a speaker write only records of its own node.
import { createHash } from 'node:crypto';
import type { Clock } from '../core/clock.ts';
import { API_GROUP, API_VERSION } from '../core/config/api-types.generated.ts';
import type { Logger } from '../platform/logger.ts';
import type { AnnouncementRecord } from '../speaker/announcement-records.ts';
import type { AnnouncementStore, StoreResult } from '../speaker/announcement-publisher.ts';
import type { ApiClient } from './api/api-client.ts';
import { describeError, errorCode } from './api/api-error.ts';
import { paths } from './api/api-paths.ts';
import { Informer, type KubeObject } from './informer.ts';

export const ANNOUNCEMENT_NODE_LABEL = 'beaconlb.io/node';
export const ANNOUNCEMENT_SERVICE_LABEL = 'beaconlb.io/service';
export const SPEAKER_FIELD_MANAGER = 'beaconlb-speaker';

export interface ServiceAnnouncementObject extends KubeObject {
  spec?: { service?: string; node?: string };
  status?: AnnouncementRecord;
}

/** The record's name: <service>.<node> (a Service name has no dot), shortened with a hash past 253 characters. */
export function announcementName(service: string, node: string): string {
  const name = `${service}.${node}`;
  if (name.length <= 253) return name;
  const hash = createHash('sha256').update(node).digest('hex').slice(0, 16);
  return `${service}.${node.slice(0, 253 - service.length - 18)}-${hash}`;
}

/** A label value (at most 63 characters); a longer name is shortened with a hash. */
export function labelValue(text: string): string {
  if (text.length <= 63) return text;
  return `${text.slice(0, 46).replace(/[-_.]+$/, '')}-${createHash('sha256').update(text).digest('hex').slice(0, 16)}`;
}

export function announcementPath(namespace: string, name?: string): string {
  const base = `/apis/${API_GROUP}/${API_VERSION}/namespaces/${namespace}/serviceannouncements`;
  return name === undefined ? base : `${base}/${name}`;
}

export interface ServiceAnnouncementStoreOptions {
  client: ApiClient;
  clock: Clock;
  log: Logger;
  node: string;
  /** The uid of a Service (namespace/name) in the speaker's cache; undefined: no such Service. */
  serviceUid: (service: string) => string | undefined;
  /** A record of this node changed in the cache (Service namespace/name). */
  onObservedChange: (service: string) => void;
  onResync: () => void;
}

export class ServiceAnnouncementStore implements AnnouncementStore {
  readonly #client: ApiClient;
  readonly #node: string;
  readonly #serviceUid: (service: string) => string | undefined;
  readonly informer: Informer<ServiceAnnouncementObject>;

  constructor(o: ServiceAnnouncementStoreOptions) {
    this.#client = o.client;
    this.#node = o.node;
    this.#serviceUid = o.serviceUid;
    this.informer = new Informer<ServiceAnnouncementObject>({
      client: o.client,
      clock: o.clock,
      log: o.log,
      path: paths.ours('serviceannouncements'),
      labelSelector: `${ANNOUNCEMENT_NODE_LABEL}=${labelValue(o.node)}`,
      onChange: (obj) => {
        const key = this.#keyOf(obj);
        if (key !== undefined) o.onObservedChange(key);
      },
      onResync: () => {
        o.onResync();
      },
    });
  }

  #keyOf(obj: ServiceAnnouncementObject): string | undefined {
    const service = obj.spec?.service;
    if (obj.spec?.node !== this.#node || typeof service !== 'string') return undefined;
    return `${obj.metadata?.namespace ?? ''}/${service}`;
  }

  #cached(service: string): ServiceAnnouncementObject | undefined {
    const [namespace, name] = service.split('/') as [string, string];
    return this.informer.get(announcementName(name, this.#node), namespace);
  }

  observed(service: string): AnnouncementRecord | undefined {
    const obj = this.#cached(service);
    if (obj === undefined || this.#keyOf(obj) !== service) return undefined;
    return obj.status ?? {};
  }

  observedServices(): string[] {
    return this.informer.list().flatMap((obj) => {
      const key = this.#keyOf(obj);
      return key === undefined ? [] : [key];
    });
  }

  async apply(service: string, record: AnnouncementRecord): Promise<StoreResult> {
    const [namespace, name] = service.split('/') as [string, string];
    const uid = this.#serviceUid(service);
    // The Service is gone: its record would be garbage at once (and the namespace may be terminating).
    if (uid === undefined) return 'done';
    const body = {
      apiVersion: `${API_GROUP}/${API_VERSION}`,
      kind: 'ServiceAnnouncement',
      metadata: {
        name: announcementName(name, this.#node),
        namespace,
        labels: { [ANNOUNCEMENT_NODE_LABEL]: labelValue(this.#node), [ANNOUNCEMENT_SERVICE_LABEL]: name },
        ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name, uid }],
      },
      spec: { service: name, node: this.#node },
      status: record,
    };
    try {
      await this.#client.request('PATCH', announcementPath(namespace, body.metadata.name), body, {
        contentType: 'application/apply-patch+yaml',
        query: { fieldManager: SPEAKER_FIELD_MANAGER, force: true },
        timeoutMs: 10_000,
      });
      return 'done';
    } catch (error) {
      return { error: describeError(error) };
    }
  }

  async remove(service: string): Promise<StoreResult> {
    const [namespace, name] = service.split('/') as [string, string];
    try {
      await this.#client.request('DELETE', announcementPath(namespace, announcementName(name, this.#node)), undefined, {
        timeoutMs: 10_000,
      });
      return 'done';
    } catch (error) {
      if (errorCode(error) === 404) return 'done';
      return { error: describeError(error) };
    }
  }
}
