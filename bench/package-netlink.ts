// Package decision benchmark (ADR 0022): reading the node's interface table and following link changes before
// and after the speaker moved to rtnetlink. "before" is `ip -j addr show` + `ip -j route show default` subprocesses
// and `ip monitor link address` (kept as src/lab/ip-json-interfaces.ts); "after" is src/platform's reader over the
// npm package netlink@0.3.0 (rtnetlink.ts, network-interfaces.ts) and its notification socket.
// Everything runs inside the node namespace of a test bed the bench creates (documentation prefixes only) and
// removes; the measuring process itself is started inside that namespace, since a netlink socket belongs to the
// namespace of the process that opens it. Prints one JSON object:
//   read_ms.<impl>.p50/p99    one full interface table (links, addresses, default routes) over --reads reads
//   cpu_ms_per_read.<impl>    user+system CPU per read, the `ip` children included
//   tables_agree              whether both produce the same InterfaceTable (names, indexes, MACs, up, addresses,
//                             default-route devices)
//   link_down_ms.<impl>       from just before spawning `ip link set eth0 down` to the watcher's first callback,
//                             over --flaps flaps with both watchers running at once
//   rss_mb                    the measuring process's RSS growth for each, and the `ip monitor` process's own RSS
//   prebuild                  which native file of the package was loaded
// Usage: node bench/package-netlink.ts [--reads 200] [--flaps 20]
import { execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { formatIp } from '../src/core/ip/ip-address.ts';
import type { InterfaceTable } from '../src/platform/network-interfaces.ts';
import { readInterfaceTableWithIp, watchInterfaceChangesWithIp } from '../src/lab/ip-json-interfaces.ts';
import { percentile, rssMb } from './support/measure.ts';

const { values } = parseArgs({
  options: {
    reads: { type: 'string', default: '200' },
    flaps: { type: 'string', default: '20' },
    child: { type: 'string' },
  },
});
const READS = Number(values.reads);
const FLAPS = Number(values.flaps);
const round = (x: number): number => Math.round(x * 100) / 100;
const progress = (what: string): void => {
  process.stderr.write(`package-netlink: ${what}\n`);
};

/** A comparable text of a table: interfaces by index, addresses sorted. */
function tableText(table: InterfaceTable): string {
  const interfaces = [...table.interfaces]
    .sort((a, b) => a.index - b.index)
    .map((i) => ({ ...i, addresses: i.addresses.map((a) => `${formatIp(a.address)}/${a.prefixLength}`).sort() }));
  return JSON.stringify({ interfaces, defaultRoute: table.defaultRoute });
}

/** CPU milliseconds used so far by this process and its reaped children (`ip`), from /proc/self/stat. */
function cpuMs(): number {
  const own = process.cpuUsage();
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
  // After ") ": field 3 (state) is index 0, so cutime (16) and cstime (17) are indexes 13 and 14; clock ticks of 10 ms.
  const children = (Number(fields[13]) + Number(fields[14])) * 10;
  return (own.user + own.system) / 1000 + children;
}

function gcRss(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().rss / 2 ** 20;
}

/** READS sequential reads: their latency percentiles and CPU per read. */
async function timeReads(read: () => Promise<InterfaceTable>): Promise<{ p50: number; p99: number; cpu: number }> {
  const times: number[] = [];
  const cpuBefore = cpuMs();
  for (let i = 0; i < READS; i++) {
    const start = performance.now();
    await read();
    times.push(performance.now() - start);
  }
  return {
    p50: round(percentile(times, 50)),
    p99: round(percentile(times, 99)),
    cpu: round((cpuMs() - cpuBefore) / READS),
  };
}

function ipLink(dev: string, state: 'up' | 'down'): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('ip', ['link', 'set', dev, state], { timeout: 5000 }, (error) => {
      if (error) reject(new Error(`ip link set ${dev} ${state}: ${error.message}`));
      else resolve();
    });
  });
}

/** The pid of our `ip monitor` child (found in /proc by parent pid and command line), or NaN. */
function ipMonitorPid(): number {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.split(') ')[1]!.split(' ')[1]);
      if (ppid === process.pid && readFileSync(`/proc/${entry}/cmdline`, 'utf8').startsWith('ip\0monitor'))
        return Number(entry);
    } catch {
      // the process ended while we looked
    }
  }
  return Number.NaN;
}

/** The measurements, inside the node namespace. */
async function measureInside(dev: string): Promise<Record<string, unknown>> {
  const result: Record<string, unknown> = { reads: READS, flaps: FLAPS, node: process.version };
  const rssStart = gcRss();
  const ipReads = await timeReads(() => readInterfaceTableWithIp());
  const rssAfterIp = gcRss();
  const ipTable = await readInterfaceTableWithIp();

  // Loaded only now, so the RSS growth below includes the package and its prebuild.
  const { RtnetlinkRequests, watchRtnetlink } = await import('../src/platform/rtnetlink.ts');
  const { readInterfaceTable } = await import('../src/platform/network-interfaces.ts');
  const requests = new RtnetlinkRequests();
  const readNetlink = async (): Promise<InterfaceTable> => {
    const table = await readInterfaceTable(requests);
    if (!table.ok) throw new Error(table.error);
    return table.value;
  };
  const nlReads = await timeReads(readNetlink);
  const rssAfterNl = gcRss();
  const nlTable = await readNetlink();
  const agree = tableText(ipTable) === tableText(nlTable);
  const prebuild = Object.keys(createRequire(import.meta.url).cache).find((file) => file.endsWith('.node'));

  // Both watchers at once; each flap is timed from just before `ip link set` is spawned.
  let monitorSeen = -1;
  let netlinkSeen = -1;
  const stopMonitor = watchInterfaceChangesWithIp(() => {
    if (monitorSeen === 0) monitorSeen = performance.now();
  });
  const watching = watchRtnetlink((change) => {
    if (netlinkSeen === 0 && change === 'link') netlinkSeen = performance.now();
  });
  if (!watching.ok) throw new Error(watching.error);
  await sleep(500); // `ip monitor` subscribes after it has started
  const monitorPid = ipMonitorPid();
  const down = { iproute2: [] as number[], netlink: [] as number[] };
  let missed = 0;
  for (let flap = 0; flap < FLAPS; flap++) {
    monitorSeen = 0;
    netlinkSeen = 0;
    const start = performance.now();
    await ipLink(dev, 'down');
    for (let i = 0; i < 200 && (monitorSeen === 0 || netlinkSeen === 0); i++) await sleep(5);
    if (monitorSeen > 0) down.iproute2.push(monitorSeen - start);
    if (netlinkSeen > 0) down.netlink.push(netlinkSeen - start);
    if (monitorSeen <= 0 || netlinkSeen <= 0) missed++;
    monitorSeen = -1;
    netlinkSeen = -1;
    await ipLink(dev, 'up');
    await sleep(100);
  }
  const monitorRss = Number.isFinite(monitorPid) && existsSync(`/proc/${monitorPid}`) ? rssMb(monitorPid) : Number.NaN;
  stopMonitor();
  watching.value();
  requests.close();

  const stats = (xs: number[]): { p50: number; p99: number; max: number } => ({
    p50: round(percentile(xs, 50)),
    p99: round(percentile(xs, 99)),
    max: round(Math.max(...xs)),
  });
  return {
    ...result,
    prebuild: prebuild?.slice(prebuild.indexOf('node_modules')) ?? 'none found',
    interfaces: ipTable.interfaces.length,
    addresses: ipTable.interfaces.reduce((n, i) => n + i.addresses.length, 0),
    read_ms: { iproute2: { p50: ipReads.p50, p99: ipReads.p99 }, netlink: { p50: nlReads.p50, p99: nlReads.p99 } },
    cpu_ms_per_read: { iproute2: ipReads.cpu, netlink: nlReads.cpu },
    tables_agree: agree,
    ...(agree ? {} : { tables: { iproute2: tableText(ipTable), netlink: tableText(nlTable) } }),
    link_down_ms: { iproute2: stats(down.iproute2), netlink: stats(down.netlink), flaps_missed: missed },
    rss_mb: {
      start: round(rssStart),
      growth_after_ip_reads: round(rssAfterIp - rssStart),
      growth_after_netlink_load_and_reads: round(rssAfterNl - rssAfterIp),
      ip_monitor_process: monitorRss,
    },
  };
}

if (values.child) {
  const out = await measureInside(values.child);
  process.stdout.write(JSON.stringify(out));
  process.exit(0);
} else {
  const { registerRun, sweepStaleRuns } = await import('../src/lab/run-registry.ts');
  const { createTestBed } = await import('../src/lab/test-bed.ts');
  const { ipBatch } = await import('../src/lab/netns.ts');
  sweepStaleRuns();
  const run = registerRun();
  const bed = await createTestBed({ run, nodes: 1 });
  let output: Record<string, unknown>;
  try {
    const node = bed.nodes[0]!;
    // A node with a few Service-like addresses on its interface (documentation prefixes, this namespace only).
    const extra: string[] = [];
    for (let i = 0; i < 16; i++) {
      extra.push(
        `address add 198.51.100.${80 + i}/32 dev ${node.dev}`,
        `address add 2001:db8:a::1:${i.toString(16)}/128 dev ${node.dev} nodad`,
      );
    }
    ipBatch(node.ns, extra);
    progress(`measuring in ${node.ns} (${READS} reads each, ${FLAPS} flaps)`);
    const child = spawn(
      'ip',
      [
        'netns',
        'exec',
        node.ns,
        process.execPath,
        '--expose-gc',
        import.meta.filename,
        '--child',
        node.dev,
        '--reads',
        String(READS),
        '--flaps',
        String(FLAPS),
      ],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    if (child.pid) run.recordProcess(child.pid);
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 180_000);
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    clearTimeout(timer);
    try {
      output = JSON.parse(stdout) as Record<string, unknown>;
    } catch {
      output = { error: `measuring process exited ${code}: ${stdout.slice(-1000)}` };
    }
  } finally {
    bed.destroy();
    run.close();
  }
  console.log(JSON.stringify(output, null, 2));
}
