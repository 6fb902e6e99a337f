// gobgpd as the test bed's router: a TOML configuration, the `gobgp` CLI's JSON for sessions and the RIB.
// No zebra, so nothing reaches the kernel; no BFD.

import { existsSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { ATTRIBUTE_CODES } from '../../protocol/bgp/attribute-type.ts';
import { execIn } from '../netns.ts';
import type { RouterOptions, RouterRoute } from '../bgp-router.ts';
import { canonicalAddress, canonicalPrefix, compareNumbered, communityOf } from './route-text.ts';
import type { Prepared } from './prepared-options.ts';
import { CLI_TIMEOUT_MS, checkSocketPath, cli, daemons, type Daemons, type RouterApi } from './daemon-set.ts';

const tomlString = (s: string): string => JSON.stringify(s);

interface GobgpPath {
  nlri?: { prefix?: string };
  best?: boolean;
  stale?: boolean;
  'neighbor-ip'?: string;
  attrs?: Array<{
    type: number;
    value?: unknown;
    metric?: number;
    nexthop?: string;
    as_paths?: Array<{ asns?: number[] }>;
    communities?: number[];
  }>;
}

function gobgpRoutes(json: string, family: 4 | 6, localAsn: number, asnOf: Map<string, number>): RouterRoute[] {
  const table = JSON.parse(json || '{}') as Record<string, GobgpPath[] | undefined>;
  const routes: RouterRoute[] = [];
  for (const [key, paths] of Object.entries(table)) {
    for (const path of paths ?? []) {
      const prefix = canonicalPrefix(path.nlri?.prefix ?? key);
      const neighborIp = path['neighbor-ip'];
      if (!neighborIp || neighborIp === '<nil>' || isIP(neighborIp) === 0) continue; // locally originated
      const neighbor = canonicalAddress(neighborIp);
      let nextHop = '';
      let asPath: number[] = [];
      let localPref: number | undefined;
      let med: number | undefined;
      let communities: string[] = [];
      let largeCommunities: string[] = [];
      for (const attr of path.attrs ?? []) {
        switch (attr.type) {
          case ATTRIBUTE_CODES['as-path']:
            asPath = (attr.as_paths ?? []).flatMap((s) => s.asns ?? []);
            break;
          case ATTRIBUTE_CODES['next-hop']:
            if (family === 4 || !nextHop) nextHop = attr.nexthop ?? nextHop;
            break;
          case ATTRIBUTE_CODES['mp-reach-nlri']:
            nextHop = attr.nexthop ?? nextHop;
            break;
          case ATTRIBUTE_CODES['multi-exit-disc']:
            med = typeof attr.metric === 'number' ? attr.metric : Number(attr.value);
            break;
          case ATTRIBUTE_CODES['local-pref']:
            localPref = Number(attr.value);
            break;
          case ATTRIBUTE_CODES.communities:
            communities = (attr.communities ?? []).map(communityOf);
            break;
          case ATTRIBUTE_CODES['large-communities']:
            largeCommunities = (
              (attr.value ?? []) as Array<{ ASN: number; LocalData1: number; LocalData2: number }>
            ).map((c) => `${c.ASN}:${c.LocalData1}:${c.LocalData2}`);
            break;
          default:
            break;
        }
      }
      const ibgp = asnOf.get(neighbor) === localAsn;
      routes.push({
        prefix,
        neighbor,
        nextHop: nextHop && isIP(nextHop) ? canonicalAddress(nextHop) : nextHop,
        asPath,
        ...(ibgp && localPref !== undefined ? { localPref } : {}),
        ...(med !== undefined ? { med } : {}),
        communities: communities.sort(compareNumbered),
        largeCommunities: largeCommunities.sort(compareNumbered),
        best: path.best === true,
        stale: path.stale === true,
      });
    }
  }
  return routes;
}

function gobgpConfig(o: RouterOptions, p: Prepared): string {
  const lines = ['[global.config]', `as = ${o.asn}`, `router-id = ${tomlString(o.routerId)}`, ''];
  for (const n of p.neighbors) {
    lines.push(
      '[[neighbors]]',
      '[neighbors.config]',
      `neighbor-address = ${tomlString(n.address)}`,
      `peer-as = ${n.asn}`,
    );
    if (n.password !== undefined) lines.push(`auth-password = ${tomlString(n.password)}`);
    // connect-retry is clamped to 5 s by gobgpd 3.x and its first connect comes after a random 5-10 s anyway;
    // idle-hold-time-after-reset only applies after an administrative reset.
    lines.push('[neighbors.timers.config]', 'connect-retry = 1', 'idle-hold-time-after-reset = 1');
    if (o.gracefulRestart) lines.push('[neighbors.graceful-restart.config]', 'enabled = true', 'helper-only = true');
    for (const afi of ['ipv4-unicast', 'ipv6-unicast']) {
      lines.push('[[neighbors.afi-safis]]', '[neighbors.afi-safis.config]', `afi-safi-name = ${tomlString(afi)}`);
      if (o.gracefulRestart) lines.push('[neighbors.afi-safis.mp-graceful-restart.config]', 'enabled = true');
    }
    lines.push('');
  }
  return lines.join('\n');
}

export function gobgpRouter(o: RouterOptions, p: Prepared, dir: string): { daemons: Daemons; api: RouterApi } {
  const config = join(dir, 'gobgpd.toml');
  const socket = join(dir, 'gobgpd.sock');
  checkSocketPath(socket);
  writeFileSync(config, gobgpConfig(o, p));
  const g = (...args: string[]): string[] => ['gobgp', '--target', `unix://${socket}`, ...args];
  const asnOf = new Map(p.neighbors.map((n) => [n.address, n.asn]));
  const d = daemons(o, dir, [
    {
      name: 'gobgpd',
      command: 'gobgpd',
      args: ['-f', config, '-p', '-l', 'info', '--pprof-disable', `--api-hosts=unix://${socket}`],
      // gobgpd does not remove the socket of a killed predecessor: bind fails with "address already in use".
      stale: [socket],
      check: async () => {
        await cli(['gobgpd', '-d', '-f', config]);
      },
      ready: async () => existsSync(socket) && (await execIn(undefined, g('global', '-j'), CLI_TIMEOUT_MS)).code === 0,
    },
  ]);
  return {
    daemons: d,
    api: {
      async established() {
        const peers = JSON.parse((await cli(g('neighbor', '-j'))) || '[]') as Array<{
          conf?: { neighbor_address?: string };
          state?: { neighbor_address?: string; session_state?: number | string };
        }>;
        return peers
          .filter((peer) => {
            const s = peer.state?.session_state;
            return s === 6 || (typeof s === 'string' && s.toLowerCase() === 'established');
          })
          .map((peer) => canonicalAddress(peer.state?.neighbor_address ?? peer.conf?.neighbor_address ?? ''));
      },
      async routes(family) {
        return gobgpRoutes(
          await cli(g('global', 'rib', '-a', family === 4 ? 'ipv4' : 'ipv6', '-j')),
          family,
          o.asn,
          asnOf,
        );
      },
    },
  };
}
