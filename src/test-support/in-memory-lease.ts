// One coordination.k8s.io Lease on a fake API server, as the real one keeps it: create fails when it exists,
// update needs the current resourceVersion (409 Conflict otherwise), every write gets a new resourceVersion. A
// client can be cut off: its requests never answer, as with an API server that accepts connections and hangs.
import type { ApiClient } from '../k8s/api/api-client.ts';
import { ApiError } from '../k8s/api/api-error.ts';
import type { Lease } from '../k8s/leader-election.ts';
import { fakeApiClient } from './fake-api-client.ts';

export class InMemoryLease {
  lease: Lease | undefined;
  #version = 0;
  readonly cutOff = new Set<string>();

  client(identity: string): ApiClient {
    return fakeApiClient({
      request: (method, _path, body) => {
        if (this.cutOff.has(identity)) return new Promise(() => undefined);
        return Promise.resolve().then(() => this.#handle(method, body as Lease | undefined));
      },
    });
  }

  #handle(method: string, body: Lease | undefined): unknown {
    if (method === 'GET') {
      if (!this.lease) throw new ApiError(404, 'NotFound', 'no lease');
      return structuredClone(this.lease);
    }
    if (!body) throw new Error(`${method} without a body`);
    if (method === 'POST' && this.lease) throw new ApiError(409, 'AlreadyExists', 'exists');
    if (method === 'PUT' && body.metadata.resourceVersion !== this.lease?.metadata.resourceVersion)
      throw new ApiError(409, 'Conflict', 'changed');
    this.lease = { ...structuredClone(body), metadata: { ...body.metadata, resourceVersion: String(++this.#version) } };
    return structuredClone(this.lease);
  }
}
