// Who answered which ARP request, from a capture in the client's namespace: every broadcast request the client sent
// for an address, with the MACs whose replies followed it (before the next request). Two MACs for one request is two
// nodes answering at once. Times are epoch seconds (tcpdump -tt).
import { execIn } from '../../src/lab/netns.ts';

export interface ArpProbe {
  /** Epoch seconds when the client's request left. */
  t: number;
  /** MACs (lowercase) that replied to it, in order of their first reply. */
  macs: string[];
  /** Epoch seconds of each MAC's first reply to it. */
  replyTimes: number[];
}

const REQUEST =
  /^(\d+\.\d+) \S+ > \S+, ethertype ARP \(0x0806\), length \d+: Request who-has (\S+)(?: \(\S+\))? tell (\S+),/;
const REPLY = /^(\d+\.\d+) \S+ > \S+, ethertype ARP \(0x0806\), length \d+: Reply (\S+) is-at (\S+),/;

/** The probes for `ip` sent by `client` (gratuitous requests, sender = target, are not probes). */
export function arpProbes(lines: readonly string[], ip: string, client: string): ArpProbe[] {
  const probes: ArpProbe[] = [];
  for (const line of lines) {
    const request = REQUEST.exec(line);
    if (request && request[2] === ip && request[3] === client) {
      probes.push({ t: Number(request[1]), macs: [], replyTimes: [] });
      continue;
    }
    const reply = REPLY.exec(line);
    if (!reply || reply[2] !== ip) continue;
    const last = probes.at(-1);
    const mac = reply[3]!.toLowerCase();
    if (last && !last.macs.includes(mac)) {
      last.macs.push(mac);
      last.replyTimes.push(Number(reply[1]));
    }
  }
  return probes;
}

/** Reads a pcap file with epoch timestamps. */
export async function readCapture(file: string): Promise<string[]> {
  const out = await execIn(undefined, ['tcpdump', '-tt', '-nn', '-e', '-r', file]);
  return out.stdout.split('\n').filter(Boolean);
}

/** Probes answered by more than one MAC. */
export function doubleAnswered(probes: readonly ArpProbe[]): ArpProbe[] {
  return probes.filter((p) => p.macs.length > 1);
}

/** The first probe at or after `from` (epoch seconds) answered by a MAC other than `except`; its reply time. */
export function firstAnswerBy(
  probes: readonly ArpProbe[],
  from: number,
  accept: (mac: string) => boolean,
): number | undefined {
  for (const probe of probes) {
    if (probe.t < from) continue;
    const i = probe.macs.findIndex(accept);
    if (i >= 0) return probe.replyTimes[i];
  }
  return undefined;
}

/** The last reply by `mac` at or after `from`. */
export function lastAnswerBy(probes: readonly ArpProbe[], from: number, mac: string): number | undefined {
  let last: number | undefined;
  for (const probe of probes) {
    if (probe.t < from) continue;
    const i = probe.macs.indexOf(mac);
    if (i >= 0) last = probe.replyTimes[i];
  }
  return last;
}
