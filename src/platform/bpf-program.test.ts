// The classic BPF programs the packet sockets attach, compared with what tcpdump compiles for the same filter and
// run over sample frames by a small interpreter, and their kernel encoding. The kernel side is
// e2e/packet-socket.test.ts.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  BPF,
  bpfArpOnly,
  bpfNeighborSolicitationOnly,
  bpfRouterAdvertisementOnly,
  encodeBpfProgram,
  type BpfProgram,
} from './bpf-program.ts';

/** Runs the few classic BPF opcodes our programs use; returns the accepted length (0 = dropped). */
function runBpf(program: BpfProgram, frame: Uint8Array): number {
  let a = 0;
  for (let pc = 0; pc < program.length; pc++) {
    const ins = program[pc]!;
    switch (ins.code) {
      case BPF.LD_H_ABS:
        if (ins.k + 2 > frame.length) return 0; // out-of-bounds load drops the packet, as in the kernel
        a = (frame[ins.k]! << 8) | frame[ins.k + 1]!;
        break;
      case BPF.LD_B_ABS:
        if (ins.k + 1 > frame.length) return 0;
        a = frame[ins.k]!;
        break;
      case BPF.JMP_JEQ_K:
        pc += a === ins.k ? ins.jt : ins.jf;
        break;
      case BPF.RET_K:
        return Math.min(ins.k, frame.length);
      default:
        throw new Error(`opcode ${ins.code} not in the interpreter`);
    }
  }
  throw new Error('program fell off its end');
}

function hex(text: string): Uint8Array {
  return Uint8Array.from(Buffer.from(text.replace(/\s+/g, ''), 'hex'));
}

const ETH_BROADCAST_ARP = 'ffffffffffff 020000000001 0806';
const arpRequest = hex(
  `${ETH_BROADCAST_ARP} 0001 0800 06 04 0001 020000000001 c6336401 000000000000 c6336402` + '00'.repeat(18),
);
const ipv4Icmp = hex('020000000002 020000000001 0800 4500001c 00004000 4001 0000 c6336401 c6336402 0800f7ff 00000000');
/** IPv6 header (payload 32, next header 58, hop limit 255) then an ICMPv6 message of `type`. */
function ipv6Icmp(type: number, nextHeader = 58): Uint8Array {
  const eth = '3333ff000005 020000000001 86dd';
  const ip6 =
    `60000000 0020 ${nextHeader.toString(16).padStart(2, '0')} ff` +
    '20010db8000000000000000000000001' +
    'ff0200000000000000000001ff000005';
  const icmp = `${type.toString(16).padStart(2, '0')}00 0000 00000000 20010db8000000000000000000000005 0101020000000001`;
  return hex(eth + ip6 + icmp);
}

describe('classic BPF programs', () => {
  it('bpfArpOnly is what `tcpdump -dd arp` compiles for Ethernet', () => {
    assert.deepEqual(
      bpfArpOnly().map((i) => [i.code, i.jt, i.jf, i.k]),
      [
        [0x28, 0, 0, 0x0c],
        [0x15, 0, 1, 0x0806],
        [0x6, 0, 0, 0x40000],
        [0x6, 0, 0, 0],
      ],
    );
  });

  it('bpfNeighborSolicitationOnly is what tcpdump compiles for `ip6 and ip6[6] == 58 and ip6[40] == 135`', () => {
    assert.deepEqual(
      bpfNeighborSolicitationOnly().map((i) => [i.code, i.jt, i.jf, i.k]),
      [
        [0x28, 0, 0, 0x0c],
        [0x15, 0, 5, 0x86dd],
        [0x30, 0, 0, 0x14],
        [0x15, 0, 3, 0x3a],
        [0x30, 0, 0, 0x36],
        [0x15, 0, 1, 0x87],
        [0x6, 0, 0, 0x40000],
        [0x6, 0, 0, 0],
      ],
    );
  });

  it('every jump lands inside the program and every path ends in a return', () => {
    for (const program of [bpfArpOnly(), bpfNeighborSolicitationOnly()]) {
      program.forEach((ins, pc) => {
        if (ins.code === BPF.JMP_JEQ_K) {
          assert.ok(pc + 1 + ins.jt < program.length && pc + 1 + ins.jf < program.length, `jump at ${pc}`);
        }
      });
      assert.equal(program.at(-1)?.code, BPF.RET_K);
      assert.ok(program.length <= 4096);
    }
  });

  it('the ARP filter accepts ARP and drops IPv4 and IPv6', () => {
    assert.equal(runBpf(bpfArpOnly(), arpRequest), arpRequest.length);
    assert.equal(runBpf(bpfArpOnly(), ipv4Icmp), 0);
    assert.equal(runBpf(bpfArpOnly(), ipv6Icmp(135)), 0);
  });

  it('the RA filter accepts Router Advertisements (RFC 4861 §4.2) only', () => {
    const ra = ipv6Icmp(134);
    assert.equal(runBpf(bpfRouterAdvertisementOnly(), ra), ra.length);
    assert.equal(runBpf(bpfRouterAdvertisementOnly(), ipv6Icmp(133)), 0, 'Router Solicitation');
    assert.equal(runBpf(bpfRouterAdvertisementOnly(), ipv6Icmp(135)), 0, 'Neighbor Solicitation');
    assert.equal(runBpf(bpfRouterAdvertisementOnly(), ipv6Icmp(134, 0)), 0, 'hop-by-hop header first');
    assert.equal(runBpf(bpfRouterAdvertisementOnly(), arpRequest), 0);
  });

  it('the NS filter accepts Neighbor Solicitations (RFC 4861 §4.3) only', () => {
    const ns = ipv6Icmp(135);
    assert.equal(runBpf(bpfNeighborSolicitationOnly(), ns), ns.length);
    assert.equal(runBpf(bpfNeighborSolicitationOnly(), ipv6Icmp(136)), 0, 'Neighbor Advertisement');
    assert.equal(runBpf(bpfNeighborSolicitationOnly(), ipv6Icmp(128)), 0, 'echo request');
    assert.equal(runBpf(bpfNeighborSolicitationOnly(), ipv6Icmp(135, 0)), 0, 'hop-by-hop header first');
    assert.equal(runBpf(bpfNeighborSolicitationOnly(), arpRequest), 0);
    assert.equal(runBpf(bpfNeighborSolicitationOnly(), ipv4Icmp), 0);
    assert.equal(runBpf(bpfNeighborSolicitationOnly(), ns.subarray(0, 50)), 0, 'truncated frame');
  });

  it('encodes struct sock_filter: 8 bytes each, u16 code, u8 jt, u8 jf, u32 k in host order (little-endian here)', () => {
    const bytes = encodeBpfProgram(bpfArpOnly());
    assert.equal(bytes.length, 32);
    assert.deepEqual(
      Buffer.from(bytes).toString('hex'),
      ['28000000 0c000000', '15000001 06080000', '06000000 00000400', '06000000 00000000'].join('').replace(/ /g, ''),
    );
  });
});
