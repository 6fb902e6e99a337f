// The native packet socket against a real kernel: two namespaces joined by a veth pair, the socket opened inside
// namespace B by a child process (e2e/support/packet-socket-child.ts), traffic made and observed in namespace A
// with arping, ping, ndisc6, tcpdump and `ip neigh`. Also TCP MD5 (RFC 2385) on loopback sockets.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { execIn, ipBatch, macAddress, mustExecIn, neighbors, startCapture } from '../src/lab/netns.ts';
import { deleteNamespace, listNamespaces, registerRun, type Run } from '../src/lab/run-registry.ts';
import { closeTcpSocket, createTcpSocket, setTcpMd5 } from '../src/platform/socket-options.ts';
import { macBytes } from '../src/protocol/ethernet/mac-address.ts';
import type { ChildCommand, ChildConfig } from './support/packet-socket-child.ts';

const CHILD_SCRIPT = join(import.meta.dirname, 'support', 'packet-socket-child.ts');
const A_IPV4 = '198.51.100.1';
const B_IPV4 = '198.51.100.2';
const A_IPV6 = '2001:db8:7::1';
const B_IPV6 = '2001:db8:7::2';

type ChildEvent = Record<string, unknown> & { event: string };

/** A packet-socket child inside a namespace, with its JSON-line events collected. */
class Child {
  readonly events: ChildEvent[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly #process: ChildProcessWithoutNullStreams;
  #stderr = '';
  #waiters: Array<() => void> = [];

  constructor(ns: string, config: ChildConfig, wrapper: readonly string[] = []) {
    this.#process = spawn('ip', [
      'netns',
      'exec',
      ns,
      ...wrapper,
      process.execPath,
      CHILD_SCRIPT,
      JSON.stringify(config),
    ]);
    this.exited = once(this.#process, 'exit').then(([code, signal]) => ({
      code: code as number | null,
      signal: signal as NodeJS.Signals | null,
    }));
    createInterface({ input: this.#process.stdout }).on('line', (line) => {
      this.events.push(JSON.parse(line) as ChildEvent);
      for (const wake of this.#waiters) wake();
    });
    this.#process.stderr.on('data', (chunk: Buffer) => (this.#stderr += chunk.toString()));
    if (config.stdin === false) this.#process.stdin.end();
  }

  get pid(): number {
    return this.#process.pid ?? 0;
  }

  get running(): boolean {
    return this.#process.exitCode === null && this.#process.signalCode === null;
  }

  command(command: ChildCommand): void {
    this.#process.stdin.write(`${JSON.stringify(command)}\n`);
  }

  /** The first event (after `from`) matching, or a failure naming what was seen, after `timeoutMs`. */
  async waitFor(match: (e: ChildEvent) => boolean, timeoutMs = 5000, from = 0): Promise<ChildEvent> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const found = this.events.slice(from).find(match);
      if (found) return found;
      const left = deadline - performance.now();
      if (left <= 0 || !this.running) {
        throw new Error(
          `child: no matching event; events ${JSON.stringify(this.events).slice(0, 2000)}; stderr ${this.#stderr}`,
        );
      }
      await Promise.race([new Promise<void>((wake) => this.#waiters.push(wake)), sleep(Math.min(left, 200))]);
      this.#waiters = [];
    }
  }

  frames(): Buffer[] {
    return this.events.filter((e) => e.event === 'frame').map((e) => Buffer.from(e['hex'] as string, 'hex'));
  }

  kill(): void {
    if (this.running) this.#process.kill('SIGKILL');
  }
}

function ipv4Bytes(address: string): number[] {
  return address.split('.').map(Number);
}

/** An ARP request frame (RFC 826), padded to the 60-byte Ethernet minimum. */
function arpRequest(sourceMac: Uint8Array, senderIp: string, targetIp: string): Buffer {
  return Buffer.concat([
    Buffer.from('ffffffffffff', 'hex'),
    sourceMac,
    Buffer.from([0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01]),
    sourceMac,
    Buffer.from(ipv4Bytes(senderIp)),
    Buffer.alloc(6),
    Buffer.from(ipv4Bytes(targetIp)),
    Buffer.alloc(18),
  ]);
}

describe('packet socket (AF_PACKET, BPF, multicast membership) in network namespaces', () => {
  let run: Run | undefined;
  let nsA = '';
  let nsB = '';
  let dir = '';
  let macA = '';
  let macB = '';
  const children: Child[] = [];

  function child(ns: string, config: ChildConfig, wrapper: readonly string[] = []): Child {
    const c = new Child(ns, config, wrapper);
    children.push(c);
    run?.recordProcess(c.pid);
    return c;
  }

  before(async () => {
    run = registerRun();
    nsA = run.namespace('a');
    nsB = run.namespace('b');
    dir = mkdtempSync(join(tmpdir(), `beaconlb-${run.id}-`));
    await mustExecIn(undefined, ['ip', 'netns', 'add', nsA]);
    await mustExecIn(undefined, ['ip', 'netns', 'add', nsB]);
    ipBatch(nsA, [
      'link set lo up',
      `link add eth0 type veth peer name eth0 netns ${nsB}`,
      `addr add ${A_IPV4}/24 dev eth0`,
      `addr add ${A_IPV6}/64 dev eth0 nodad`,
      'link set eth0 up',
    ]);
    ipBatch(nsB, [
      'link set lo up',
      `addr add ${B_IPV4}/24 dev eth0`,
      `addr add ${B_IPV6}/64 dev eth0 nodad`,
      'link set eth0 up',
    ]);
    // Gratuitous ARP may create a neighbor entry in A (Linux otherwise only updates existing ones).
    await mustExecIn(nsA, ['sysctl', '-q', '-w', 'net.ipv4.conf.all.arp_accept=1', 'net.ipv4.conf.eth0.arp_accept=1']);
    macA = await macAddress(nsA, 'eth0');
    macB = await macAddress(nsB, 'eth0');
  });

  after(() => {
    for (const c of children) c.kill();
    if (nsA) deleteNamespace(nsA);
    if (nsB) deleteNamespace(nsB);
    run?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
    const left = listNamespaces().filter((ns) => ns === nsA || ns === nsB);
    assert.deepEqual(left, [], 'namespaces left behind');
  });

  it('receives the ARP request of arping; the ARP filter keeps a ping’s IPv4 frames out in the kernel', async () => {
    // Both bound to every EtherType: only the BPF program differs.
    const filtered = child(nsB, { ifname: 'eth0', protocol: 'all', filter: 'arp' });
    const unfiltered = child(nsB, { ifname: 'eth0', protocol: 'all', filter: 'none' });
    const withOutgoing = child(nsB, { ifname: 'eth0', protocol: 'all', filter: 'none', outgoing: true });
    for (const c of [filtered, unfiltered, withOutgoing]) await c.waitFor((e) => e.event === 'ready');

    const arping = await mustExecIn(nsA, ['arping', '-c', '1', '-w', '2', '-I', 'eth0', B_IPV4]);
    assert.match(arping, /Received 1 response/);
    await mustExecIn(nsA, ['ping', '-c', '2', '-i', '0.2', '-W', '2', B_IPV4]);

    const isArpRequestForB = (e: ChildEvent): boolean => {
      if (e.event !== 'frame') return false;
      const f = Buffer.from(e['hex'] as string, 'hex');
      return (
        f.readUInt16BE(12) === 0x0806 &&
        f.readUInt16BE(20) === 1 &&
        f.subarray(38, 42).equals(Buffer.from(ipv4Bytes(B_IPV4)))
      );
    };
    const request = await filtered.waitFor(isArpRequestForB);
    assert.equal(request['pktType'], 'broadcast');
    assert.equal(
      Buffer.from(request['hex'] as string, 'hex')
        .subarray(6, 12)
        .equals(macBytes(macA)),
      true,
    );
    // The ping's echo requests reached B's interface (the unfiltered socket saw them) ...
    await unfiltered.waitFor(
      (e) => e.event === 'frame' && Buffer.from(e['hex'] as string, 'hex').readUInt16BE(12) === 0x0800,
    );
    // ... and the ARP-filtered socket got nothing but ARP.
    filtered.command({ op: 'count' });
    const count = await filtered.waitFor((e) => e.event === 'count');
    const types = filtered.frames().map((f) => f.readUInt16BE(12).toString(16));
    assert.deepEqual([...new Set(types)], ['806'], types.join(','));
    const kernel = count['kernel'] as { ok: true; value: { packets: number; drops: number } };
    assert.equal(kernel.value.packets, filtered.frames().length, 'the kernel queued only what the filter accepted');
    // B's own replies are PACKET_OUTGOING: skipped unless asked for.
    const fromB = (f: Buffer): boolean => f.subarray(6, 12).equals(macBytes(macB));
    const reply = await withOutgoing.waitFor(
      (e) => e.event === 'frame' && fromB(Buffer.from(e['hex'] as string, 'hex')),
    );
    assert.equal(reply['pktType'], 'outgoing');
    assert.equal(unfiltered.frames().filter(fromB).length, 0);
    for (const c of [filtered, unfiltered, withOutgoing]) {
      c.command({ op: 'close' });
      assert.deepEqual(await c.exited, { code: 0, signal: null });
    }
  });

  it('a gratuitous ARP sent by the addon is captured in A and puts the claimed address into A’s neighbor table', async () => {
    const claimed = '198.51.100.77';
    const sender = child(nsB, { ifname: 'eth0', protocol: 'arp', filter: 'arp' });
    await sender.waitFor((e) => e.event === 'ready');
    const capture = await startCapture(nsA, 'eth0', 'arp', dir, 'garp');
    const frame = arpRequest(macBytes(macB), claimed, claimed);
    sender.command({ op: 'send', hex: frame.toString('hex') });
    const sent = await sender.waitFor((e) => e.event === 'sent');
    assert.deepEqual(sent, { event: 'sent', ok: true, value: 60 });
    const packets = await capture.stop();
    assert.ok(
      packets.some(
        (p) =>
          p.includes(`${macB} > ff:ff:ff:ff:ff:ff, ethertype ARP`) && p.includes(`who-has ${claimed} tell ${claimed}`),
      ),
      packets.join('\n'),
    );
    const entry = (await neighbors(nsA)).find((n) => n.dst === claimed);
    assert.equal(entry?.lladdr, macB, JSON.stringify(entry));
    assert.equal(entry.dev, 'eth0');
    sender.command({ op: 'close' });
    assert.deepEqual(await sender.exited, { code: 0, signal: null });
  });

  it('joins the solicited-node multicast group and receives an NS for an address nobody has (NS-only filter)', async () => {
    const target = '2001:db8:7::99';
    const group = '33:33:ff:00:00:99'; // ff02::1:ff00:99 (RFC 4291 §2.7.1) as MAC (RFC 2464 §7)
    const receiver = child(nsB, { ifname: 'eth0', protocol: 'ipv6', filter: 'ns' });
    await receiver.waitFor((e) => e.event === 'ready');
    receiver.command({ op: 'join', mac: group });
    assert.deepEqual(await receiver.waitFor((e) => e.event === 'join'), { event: 'join', ok: true });
    assert.match(await mustExecIn(nsB, ['ip', 'maddr', 'show', 'dev', 'eth0']), new RegExp(`link\\s+${group}`));

    const ndisc = await execIn(nsA, ['ndisc6', '-1', '-r', '1', '-w', '300', target, 'eth0']);
    assert.notEqual(ndisc.code, 0, 'nobody answers');
    // The kernel of A may solicit other addresses meanwhile; the one for `target` goes to the joined group's MAC.
    const groupHex = group.replaceAll(':', '');
    const received = await receiver.waitFor((e) => e.event === 'frame' && String(e['hex']).startsWith(groupHex));
    const ns = Buffer.from(received['hex'] as string, 'hex');
    assert.equal(received['pktType'], 'multicast');
    assert.equal(ns.subarray(0, 6).equals(macBytes(group)), true, 'sent to the solicited-node MAC');
    assert.equal(ns.readUInt16BE(12), 0x86dd);
    assert.equal(ns[14 + 6], 58);
    assert.equal(ns[14 + 7], 255, 'hop limit');
    assert.equal(ns[14 + 40], 135);
    assert.equal(ns.subarray(14 + 48, 14 + 64).toString('hex'), '20010db8000700000000000000000099', 'target address');
    // Whatever else A sent (MLD reports, ...) was filtered: only NS arrived.
    assert.ok(receiver.frames().every((f) => f.readUInt16BE(12) === 0x86dd && f[14 + 40] === 135));

    receiver.command({ op: 'leave', mac: group });
    assert.deepEqual(await receiver.waitFor((e) => e.event === 'leave'), { event: 'leave', ok: true });
    assert.doesNotMatch(await mustExecIn(nsB, ['ip', 'maddr', 'show', 'dev', 'eth0']), new RegExp(group));
    receiver.command({ op: 'close' });
    assert.deepEqual(await receiver.exited, { code: 0, signal: null });
  });

  it('survives a link flap: reports ENETDOWN as network-down and receives again once the link is up', async () => {
    const receiver = child(nsB, { ifname: 'eth0', protocol: 'arp', filter: 'arp' });
    await receiver.waitFor((e) => e.event === 'ready');
    await mustExecIn(nsB, ['ip', 'link', 'set', 'eth0', 'down']);
    const down = await receiver.waitFor((e) => e.event === 'error');
    assert.equal(down['reason'], 'network-down', JSON.stringify(down));
    await mustExecIn(nsB, ['ip', 'link', 'set', 'eth0', 'up']);
    for (let i = 0; i < 100; i++) {
      const [link] = JSON.parse(await mustExecIn(nsB, ['ip', '-j', 'link', 'show', 'eth0'])) as Array<{
        operstate: string;
      }>;
      if (link?.operstate === 'UP') break;
      await sleep(50);
    }
    await mustExecIn(nsA, ['arping', '-c', '1', '-w', '3', '-I', 'eth0', B_IPV4]);
    await receiver.waitFor((e) => e.event === 'frame');
    receiver.command({ op: 'close' });
    assert.deepEqual(await receiver.exited, { code: 0, signal: null });
  });

  it('an open socket keeps the process alive; close() (or ref: false) lets it exit by itself', async () => {
    // Nothing but the socket: no stdin, no timers. It closes itself after the first frame.
    const closing = child(nsB, { ifname: 'eth0', protocol: 'arp', filter: 'arp', closeAfter: 1, stdin: false });
    const holding = child(nsB, { ifname: 'eth0', protocol: 'arp', filter: 'arp', stdin: false });
    const unrefd = child(nsB, { ifname: 'eth0', protocol: 'arp', filter: 'arp', stdin: false, ref: false });
    await closing.waitFor((e) => e.event === 'ready');
    await holding.waitFor((e) => e.event === 'ready');
    assert.deepEqual(await unrefd.exited, { code: 0, signal: null });

    await sleep(300);
    assert.ok(closing.running && holding.running, 'an open, referenced socket keeps the loop alive');
    await mustExecIn(nsA, ['arping', '-c', '1', '-w', '2', '-I', 'eth0', B_IPV4]);
    await closing.waitFor((e) => e.event === 'closed');
    const exit = await Promise.race([closing.exited, sleep(3000).then(() => 'still running')]);
    assert.deepEqual(exit, { code: 0, signal: null });
    await holding.waitFor((e) => e.event === 'frame');
    assert.ok(holding.running, 'without close() the process stays');
    holding.kill();
  });

  it('without CAP_NET_RAW, open fails with EPERM and says what is missing', async () => {
    const setpriv = await execIn(undefined, ['setpriv', '--help']);
    if (setpriv.code !== 0) return;
    const unprivileged = child(nsB, { ifname: 'eth0', protocol: 'arp', filter: 'arp' }, [
      'setpriv',
      '--inh-caps=-all',
      '--bounding-set=-net_raw',
      '--',
    ]);
    const failed = await unprivileged.waitFor((e) => e.event === 'open-failed');
    assert.equal(failed['reason'], 'permission-denied');
    assert.equal(failed['code'], 'EPERM');
    assert.match(failed['message'] as string, /CAP_NET_RAW/);
    assert.deepEqual(await unprivileged.exited, { code: 2, signal: null });
  });

  it('receive rate under an ARP request flood (reported, not asserted)', async (t) => {
    const receiver = child(nsB, { ifname: 'eth0', protocol: 'arp', filter: 'arp', print: false });
    const sender = child(nsA, { ifname: 'eth0', protocol: 'arp', filter: 'arp', print: false });
    await receiver.waitFor((e) => e.event === 'ready');
    await sender.waitFor((e) => e.event === 'ready');
    const count = 200_000;
    sender.command({ op: 'flood', hex: arpRequest(macBytes(macA), A_IPV4, '198.51.100.200').toString('hex'), count });
    const flooded = await sender.waitFor((e) => e.event === 'flooded', 60_000);
    await sleep(300);
    receiver.command({ op: 'count' });
    const counted = await receiver.waitFor((e) => e.event === 'count');
    const frames = counted['frames'] as number;
    const seconds = ((counted['lastMs'] as number) - (counted['firstMs'] as number)) / 1000;
    const kernel = counted['kernel'] as { ok: boolean; value?: { packets: number; drops: number } };
    const report = {
      sent: flooded['sent'],
      sendErrors: flooded['errors'],
      sendPerSecond: Math.round((flooded['sent'] as number) / ((flooded['ms'] as number) / 1000)),
      received: frames,
      receivedPerSecond: Math.round(frames / seconds),
      socketBufferDrops: kernel.value?.drops,
      lostElsewhere: count - frames - (kernel.value?.drops ?? 0),
    };
    t.diagnostic(JSON.stringify(report));
    assert.ok(frames > 0 && frames + (kernel.value?.drops ?? 0) <= count);
    sender.command({ op: 'close' });
    receiver.command({ op: 'close' });
    await Promise.all([sender.exited, receiver.exited]);
  });
});

describe('TCP MD5 signatures (RFC 2385) on sockets Node owns', () => {
  const key = Buffer.from('beacon-lb md5 key');

  async function md5Server(host: string): Promise<net.Server> {
    const server = net.createServer((socket) => socket.end('signed hello'));
    server.listen(0, host);
    await once(server, 'listening');
    // Passive side: the key on the listening socket; accepted connections inherit it.
    const fd = (server as unknown as { _handle: { fd: number } })._handle.fd;
    const set = setTcpMd5(fd, host === '::' ? '127.0.0.1' : host, key);
    assert.deepEqual(set, { ok: true, value: undefined });
    return server;
  }

  /** Connects with the key (if any) set on an fd from createTcpSocket() before connect(); the data read or 'timeout'. */
  async function connectSigned(
    host: string,
    port: number,
    family: 4 | 6,
    clientKey: Uint8Array | undefined,
  ): Promise<string> {
    const fd = createTcpSocket(family);
    assert.ok(fd.ok);
    if (clientKey) assert.ok(setTcpMd5(fd.value, host, clientKey).ok);
    const socket = new net.Socket({ fd: fd.value });
    socket.connect(port, host);
    let data = '';
    socket.on('data', (chunk: Buffer) => (data += chunk.toString()));
    const outcome = await Promise.race([
      once(socket, 'close').then(() => data),
      once(socket, 'error').then(([e]) => `error ${(e as Error).message}`),
      sleep(700).then(() => 'timeout'),
    ]);
    socket.destroy();
    return outcome;
  }

  for (const [host, family] of [
    ['127.0.0.1', 4],
    ['::1', 6],
  ] as const) {
    it(`IPv${family}: a signed connection succeeds; unsigned and wrongly signed SYNs are dropped`, async () => {
      const server = await md5Server(host);
      const { port } = server.address() as net.AddressInfo;
      assert.equal(await connectSigned(host, port, family, key), 'signed hello');
      assert.equal(await connectSigned(host, port, family, undefined), 'timeout');
      assert.equal(await connectSigned(host, port, family, Buffer.from('wrong key')), 'timeout');
      server.close();
    });
  }

  it('an IPv4 peer on a dual-stack listener is keyed as ::ffff:a.b.c.d', async () => {
    const server = await md5Server('::');
    const { port } = server.address() as net.AddressInfo;
    assert.equal(await connectSigned('127.0.0.1', port, 4, key), 'signed hello');
    assert.equal(await connectSigned('127.0.0.1', port, 4, undefined), 'timeout');
    server.close();
  });

  it('Node creates a connecting socket’s fd only inside connect(): there is no fd to key before the SYN', () => {
    const socket = new net.Socket();
    socket.on('error', () => undefined);
    socket.connect(9, '127.0.0.1');
    assert.equal((socket as unknown as { _handle: { fd: number } })._handle.fd, -1);
    socket.destroy();
  });

  it('rejects bad arguments as values', () => {
    const fd = createTcpSocket(4);
    assert.ok(fd.ok);
    const long = setTcpMd5(fd.value, '127.0.0.1', Buffer.alloc(81));
    assert.equal(!long.ok && long.error.reason, 'invalid-argument');
    const bad = setTcpMd5(fd.value, 'not-an-address', key);
    assert.equal(!bad.ok && bad.error.reason, 'invalid-argument');
    const v6OnV4 = setTcpMd5(fd.value, '2001:db8::1', key);
    assert.equal(!v6OnV4.ok && v6OnV4.error.code, 'EAFNOSUPPORT');
    assert.deepEqual(closeTcpSocket(fd.value), { ok: true, value: undefined });
    const closed = setTcpMd5(fd.value, '127.0.0.1', key);
    assert.equal(!closed.ok && closed.error.code, 'EBADF');
  });
});
