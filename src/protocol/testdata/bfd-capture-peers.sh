#!/usr/bin/env bash
# Captures the BFD control packets that real BFD daemons send (BIRD 2 and FRR bfdd, talking to each other) and
# prints them as the TypeScript module bfd-captures.ts beside this script:
#
#   bash src/protocol/testdata/bfd-capture-peers.sh > src/protocol/testdata/bfd-captures.ts
#
# Two network namespaces joined by a veth pair: blbbfdcp-bird (BIRD, 198.51.100.1 and 2001:db8:1::1) and
# blbbfdcp-frr (zebra + bfdd, 198.51.100.2 and 2001:db8:1::2); addresses only from the documentation ranges.
# Sessions over IPv4 and IPv6 at 100 ms x 3 come up (three-way handshake, then each side's Poll Sequence for the
# faster rate), then BIRD's session is disabled (AdminDown) and enabled again, then FRR's peer is shut down
# (AdminDown). tcpdump in the BIRD namespace records every packet on UDP port 3784; each is kept with its sender,
# its IP TTL / hop limit and the step of the script that was running.
# Daemons are stopped and the namespaces deleted on exit, also on failure; the root namespace is not touched.
# Needs root, iproute2, tcpdump, python3, bird2 (bird, birdc) and frr (/usr/lib/frr/{zebra,bfdd}, vtysh).
set -euo pipefail

B=blbbfdcp-bird
F=blbbfdcp-frr
WORK=$(mktemp -d /tmp/blbbfdcp.XXXXXX)
chmod 755 "$WORK"
PIDS=()
log() { echo "[capture] $*" >&2; }

cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done; kill -9 "$pid" 2>/dev/null || true; done
  ip netns del "$B" 2>/dev/null || true
  ip netns del "$F" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

ip netns add "$B"; ip netns add "$F"
ip -n "$B" link set lo up; ip -n "$F" link set lo up
ip -n "$B" link add eth0 type veth peer name eth0 netns "$F"
ip -n "$B" addr add 198.51.100.1/24 dev eth0; ip -n "$B" addr add 2001:db8:1::1/64 dev eth0 nodad
ip -n "$F" addr add 198.51.100.2/24 dev eth0; ip -n "$F" addr add 2001:db8:1::2/64 dev eth0 nodad
ip -n "$B" link set eth0 up; ip -n "$F" link set eth0 up
sleep 1

STEPS=$WORK/steps.txt
step() { echo "$(date +%s.%N) $*" >> "$STEPS"; log "$*"; }

ip netns exec "$B" tcpdump -i eth0 -s 0 -U -w "$WORK/bfd.pcap" 'udp port 3784' 2>"$WORK/tcpdump.log" &
PIDS+=($!)
sleep 1

step "sessions come up (BIRD and FRR, 100 ms x 3, IPv4 and IPv6)"
cat > "$WORK/bird.conf" <<CONF
router id 198.51.100.1;
protocol device {}
protocol bfd bfd1 {
  interface "eth0" { min rx interval 100 ms; min tx interval 100 ms; idle tx interval 1000 ms; multiplier 3; };
  neighbor 198.51.100.2 dev "eth0";
  neighbor 2001:db8:1::2 dev "eth0";
}
CONF
ip netns exec "$B" bird -f -c "$WORK/bird.conf" -s "$WORK/bird.ctl" -P "$WORK/bird.pid" >"$WORK/bird.log" 2>&1 &
PIDS+=($!)

install -d -o frr -g frr "$WORK/frr"
cat > "$WORK/frr/frr.conf" <<CONF
bfd
 peer 198.51.100.1 interface eth0
  receive-interval 100
  transmit-interval 100
  detect-multiplier 3
 exit
 peer 2001:db8:1::1 interface eth0
  receive-interval 100
  transmit-interval 100
  detect-multiplier 3
 exit
exit
CONF
chown frr:frr "$WORK/frr/frr.conf"
O=(-P 0 -z "$WORK/frr/zserv.api" --vty_socket "$WORK/frr")
ip netns exec "$F" /usr/lib/frr/zebra "${O[@]}" -i "$WORK/frr/zebra.pid" -f /dev/null --log "file:$WORK/frr/zebra.log" &
PIDS+=($!)
for _ in $(seq 50); do [[ -S $WORK/frr/zserv.api ]] && break; sleep 0.1; done
ip netns exec "$F" /usr/lib/frr/bfdd "${O[@]}" -i "$WORK/frr/bfdd.pid" -f "$WORK/frr/frr.conf" --log "file:$WORK/frr/bfdd.log" &
PIDS+=($!)
V=(vtysh --vty_socket "$WORK/frr")
for _ in $(seq 100); do
  [[ $("${V[@]}" -c 'show bfd peers brief' 2>/dev/null | grep -c ' up ') == 2 ]] && break; sleep 0.1
done
sleep 1.5
"${V[@]}" -c 'show bfd peers brief' >&2

step "BIRD disables its BFD protocol (AdminDown), then enables it again"
birdc -s "$WORK/bird.ctl" disable bfd1 >/dev/null
sleep 1.5
step "BIRD enables its BFD protocol again"
birdc -s "$WORK/bird.ctl" enable bfd1 >/dev/null
for _ in $(seq 100); do
  [[ $("${V[@]}" -c 'show bfd peers brief' 2>/dev/null | grep -c ' up ') == 2 ]] && break; sleep 0.1
done
sleep 1

step "FRR shuts its IPv4 peer down (AdminDown)"
"${V[@]}" -c 'configure terminal' -c 'bfd' -c 'peer 198.51.100.1 interface eth0' -c 'shutdown' >/dev/null
sleep 1.5
step "end"
sleep 0.3

BIRD_VERSION=$(bird --version 2>&1 | head -1)
FRR_VERSION=$(/usr/lib/frr/bfdd --version 2>&1 | head -1)
python3 - "$WORK/bfd.pcap" "$STEPS" "$BIRD_VERSION" "$FRR_VERSION" "$(uname -sr)" <<'PY'
import struct, sys, ipaddress
pcap, steps_file, bird_version, frr_version, kernel = sys.argv[1:6]
steps = []
for line in open(steps_file):
    t, text = line.rstrip('\n').split(' ', 1)
    steps.append((float(t), text))
data = open(pcap, 'rb').read()
magic = struct.unpack('<I', data[:4])[0]
nano = magic == 0xa1b23c4d
offset = 24
packets = {'bird': [], 'frr': []}
while offset + 16 <= len(data):
    sec, frac, incl, _ = struct.unpack('<IIII', data[offset:offset + 16])
    frame = data[offset + 16: offset + 16 + incl]
    offset += 16 + incl
    t = sec + frac / (1e9 if nano else 1e6)
    ethertype = struct.unpack('>H', frame[12:14])[0]
    ip = frame[14:]
    if ethertype == 0x0800:
        ttl, src = ip[8], str(ipaddress.ip_address(ip[12:16]))
        udp = ip[(ip[0] & 0x0f) * 4:]
    elif ethertype == 0x86dd and ip[6] == 17:
        ttl, src = ip[7], str(ipaddress.ip_address(ip[8:24]))
        udp = ip[40:]
    else:
        continue
    sport, dport = struct.unpack('>HH', udp[:4])
    if dport != 3784:
        continue
    step = [s for (st, s) in steps if st <= t]
    who = 'bird' if src in ('198.51.100.1', '2001:db8:1::1') else 'frr'
    packets[who].append((step[-1] if step else 'start', src, sport, ttl, udp[8:].hex()))

def keep(rows):
    # Consecutive identical packets (periodic ones) are kept once each per step: the capture stays small.
    out, seen = [], set()
    for row in rows:
        key = (row[0], row[1], row[4])
        if key in seen:
            continue
        seen.add(key)
        out.append(row)
    return out

print('// Generated by src/protocol/testdata/bfd-capture-peers.sh (read it for the set-up); do not edit by hand.')
print('// BFD control packets (UDP payloads) sent by BIRD and FRR bfdd to each other over a veth pair between two')
print('// namespaces (BIRD 198.51.100.1 / 2001:db8:1::1, FRR 198.51.100.2 / 2001:db8:1::2), 100 ms x 3 configured on')
print('// both. Each distinct packet is kept once per step, in arrival order, with its sender, UDP source port and')
print('// IP TTL / hop limit. The tests find packets by step and state: check them after regenerating.')
print(f'// {bird_version}; {frr_version}; {kernel}.')
print()
print('export interface CapturedBfdPacket {')
print('  readonly step: string;')
print('  readonly source: string;')
print('  readonly sourcePort: number;')
print('  readonly ttl: number;')
print('  readonly hex: string;')
print('}')
for who in ('bird', 'frr'):
    print()
    print(f'export const {who}: readonly CapturedBfdPacket[] = [')
    for step, src, sport, ttl, hexed in keep(packets[who]):
        print(f"  {{ step: {step!r}, source: '{src}', sourcePort: {sport}, ttl: {ttl}, hex: '{hexed}' }},".replace("'", '"', 2).replace('step: "', "step: '").replace('", source', "', source"))
    print('];')
PY
