// UDP for the speakers' failure detector (ADR 0019) on node:dgram: one socket per speaker, bound to the port of the
// probe address it publishes in its Lease (UDP 7946 by default), sending to and receiving from every member. The
// datagrams are authenticated above this layer (src/protocol/probe); this file only moves bytes.
import dgram from 'node:dgram';
import { isIPv6 } from 'node:net';
import { err, ok, type Result } from '../core/result.ts';

export interface ProbeSocket {
  /** The port bound (the one asked for, or the kernel's choice for 0). */
  readonly port: number;
  send(bytes: Uint8Array, address: string, port: number): void;
  close(): void;
}

export interface ReceivedProbeDatagram {
  readonly bytes: Uint8Array;
  readonly address: string;
  readonly port: number;
}

/**
 * Binds UDP `port` on `bindAddress` (the family's wildcard when absent; IPv6 when the address is IPv6). Send errors
 * (ICMP unreachable, no route) are dropped: the detector notices the silence, which is what it is for.
 */
export async function openProbeSocket(options: {
  port: number;
  bindAddress?: string;
  family?: 4 | 6;
  onDatagram: (datagram: ReceivedProbeDatagram) => void;
}): Promise<Result<ProbeSocket>> {
  const family = options.family ?? (options.bindAddress !== undefined && isIPv6(options.bindAddress) ? 6 : 4);
  const socket = dgram.createSocket(family === 4 ? { type: 'udp4' } : { type: 'udp6', ipv6Only: true });
  const bound = await new Promise<Result<void, Error>>((resolve) => {
    const onError = (error: Error): void => {
      resolve(err(error));
    };
    socket.once('error', onError);
    socket.bind(
      {
        port: options.port,
        ...(options.bindAddress === undefined ? {} : { address: options.bindAddress }),
        exclusive: true,
      },
      () => {
        socket.off('error', onError);
        resolve(ok(undefined));
      },
    );
  });
  if (!bound.ok) {
    socket.close();
    return err(`binding UDP port ${options.port} on ${options.bindAddress ?? 'every address'}: ${bound.error.message}`);
  }
  socket.on('error', () => undefined);
  socket.on('message', (message, remote) => {
    options.onDatagram({
      bytes: new Uint8Array(message.buffer, message.byteOffset, message.byteLength),
      address: remote.address,
      port: remote.port,
    });
  });
  let open = true;
  return ok({
    port: socket.address().port,
    send: (bytes, address, port) => {
      if (open) socket.send(bytes, port, address, () => undefined);
    },
    close: () => {
      if (!open) return;
      open = false;
      socket.close();
    },
  });
}
