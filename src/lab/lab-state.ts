// What a running lab remembers between `beaconlb lab` invocations (state-dir/state.json).
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface LabNode {
  name: string;
  ns: string;
  mac: string;
  ipv4: string;
  ipv6: string;
  speakerPid?: number;
}

export interface LabState {
  phase: 'starting' | 'ready' | 'failed' | 'stopping';
  /** `cluster`: real kubelets, kube-proxy and Beacon LB's image (lab up --cluster); else processes and stand-ins. */
  mode?: 'standalone' | 'cluster';
  error?: string;
  supervisorPid: number;
  runId?: string;
  kubeconfig?: string;
  kubectl?: string;
  nodes?: LabNode[];
  client?: { ns: string; ipv4: string; ipv6: string };
  client2?: { ns: string; ipv4: string; ipv6: string };
  router?: { ns: string; kind?: string; asn?: number };
  /** Service addresses of the sample Services, by Service name. */
  services?: Record<string, string[]>;
  /** Cluster mode: the ingress controller's one address and the host names routed through it (ingress-demo.ts). */
  ingress?: { ip: string; hosts: Array<{ host: string; backend: string; route: string }> };
  logDir?: string;
  /** Milliseconds from the supervisor's start to ready, and per start-up phase (cluster mode). */
  startMillis?: number;
  timings?: Record<string, number>;
}

export const stateFile = (dir: string): string => join(dir, 'state.json');

export function readLabState(dir: string): LabState | undefined {
  try {
    return JSON.parse(readFileSync(stateFile(dir), 'utf8')) as LabState;
  } catch {
    return undefined;
  }
}

export function writeLabState(dir: string, state: LabState): void {
  mkdirSync(dir, { recursive: true });
  const tmp = `${stateFile(dir)}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(tmp, stateFile(dir));
}
