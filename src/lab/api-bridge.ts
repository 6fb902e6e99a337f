// Makes the control plane (on the root namespace's loopback) reachable from inside network namespaces without
// touching the root namespace's network: a Unix socket (filesystem paths are not namespaced) joins a socat
// listening on 127.0.0.1:<port> inside each namespace to a socat in the root namespace that connects to the API
// server. Clients inside a namespace use the same URL and certificates as outside: https://127.0.0.1:<port>.
// Cutting a namespace off the API server (fencing tests) is `cut(ns)`: an nftables drop inside that namespace.
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { existsSync } from 'node:fs';
import { startProcess, type ManagedProcess } from './managed-process.ts';
import { mustExecIn } from './netns.ts';
import type { Run } from './run-registry.ts';

export interface ApiBridge {
  /**
   * Starts a listener on 127.0.0.1:<port> inside `ns` forwarding to the API server, or to the Unix socket `via`
   * instead (a test proxy in front of the API server that speaks TLS with the API server's certificate).
   */
  connect(ns: string, via?: string): Promise<void>;
  /** Drops all traffic to the API server inside `ns` (established connections too) until `restore(ns)`. */
  cut(ns: string): Promise<void>;
  restore(ns: string): Promise<void>;
  stop(): Promise<void>;
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  for (let waited = 0; !condition(); waited += 20) {
    if (waited > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

export async function startApiBridge(port: number, dir: string, run?: Run): Promise<ApiBridge> {
  const socket = join(dir, 'api.sock');
  const processes: ManagedProcess[] = [];
  const track = (p: ManagedProcess): ManagedProcess => {
    processes.push(p);
    run?.recordProcess(p.pid);
    return p;
  };
  const hub = track(
    startProcess({
      name: 'api-bridge',
      command: 'socat',
      args: [`UNIX-LISTEN:${socket},fork,unlink-early,mode=600`, `TCP:127.0.0.1:${port}`],
      logFile: join(dir, 'api-bridge.log'),
    }),
  );
  await waitFor(() => existsSync(socket) || !hub.running(), 'the API bridge socket');
  if (!hub.running()) throw new Error(`api bridge failed: ${hub.tail()}`);
  const table = `inet beaconlb_cut`;
  return {
    async connect(ns, via) {
      const p = track(
        startProcess({
          name: `api-bridge-${ns}`,
          command: 'socat',
          args: [`TCP-LISTEN:${port},bind=127.0.0.1,fork,reuseaddr`, `UNIX-CONNECT:${via ?? socket}`],
          netns: ns,
          logFile: join(dir, `api-bridge-${ns}.log`),
        }),
      );
      for (let i = 0; i < 100; i++) {
        const listening = await mustExecIn(ns, ['ss', '-Htln', `sport = :${port}`]);
        if (listening.trim()) return;
        if (!p.running()) throw new Error(`api bridge in ${ns} failed: ${p.tail()}`);
        await sleep(20);
      }
      throw new Error(`api bridge in ${ns} is not listening`);
    },
    async cut(ns) {
      await mustExecIn(ns, ['nft', `add table ${table}`]);
      await mustExecIn(ns, ['nft', `add chain ${table} out { type filter hook output priority 0 ; }`]);
      await mustExecIn(ns, ['nft', `add rule ${table} out oif lo tcp dport ${port} drop`]);
      await mustExecIn(ns, ['nft', `add rule ${table} out oif lo tcp sport ${port} drop`]);
    },
    async restore(ns) {
      await mustExecIn(ns, ['nft', `delete table ${table}`]);
    },
    async stop() {
      await Promise.all(processes.map((p) => p.stop(500)));
    },
  };
}
