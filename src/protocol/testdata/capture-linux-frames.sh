#!/usr/bin/env bash
# Captures ARP and Neighbor Discovery frames that Linux itself builds (the kernel, iputils arping, ndisc6) and
# prints them as the TypeScript module linux-captures.ts beside this script:
#
#   bash src/protocol/testdata/capture-linux-frames.sh > src/protocol/testdata/linux-captures.ts
#
# Two network namespaces, blbproto-a and blbproto-b, joined by a veth pair (veth-a <-> veth-b). Addresses only from
# 198.51.100.0/24 and 2001:db8::/32 (documentation ranges), IPv6 added with nodad, and no link-local addresses
# (addrgenmode none) so that nothing but the triggered frames flows. tcpdump runs inside blbproto-a on veth-a, so it
# sees both directions. (No VLAN capture: the kernel this was written on has no 802.1Q support; the tagged-frame
# tests use bytes written from IEEE 802.1Q instead.)
# The namespaces are deleted on exit, also on failure; the root namespace is not touched. Needs root, iproute2,
# tcpdump, iputils-ping, iputils-arping, ndisc6 and python3.
set -euo pipefail

A=blbproto-a
B=blbproto-b
MAC_A=02:bb:00:00:00:0a
MAC_B=02:bb:00:00:00:0b
MAC_A_NEW=02:bb:00:00:00:1a
WORK=$(mktemp -d /tmp/blbproto-capture.XXXXXX)
TCPDUMP_PID=

cleanup() {
  if [[ -n "$TCPDUMP_PID" ]]; then kill "$TCPDUMP_PID" 2>/dev/null || true; wait "$TCPDUMP_PID" 2>/dev/null || true; fi
  ip netns del "$A" 2>/dev/null || true
  ip netns del "$B" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

inA() { ip netns exec "$A" "$@"; }

ip netns add "$A"
ip netns add "$B"
ip -n "$A" link add veth-a type veth peer name veth-b netns "$B"
for side in a b; do
  ns=blbproto-$side
  mac=$MAC_A; [[ $side == b ]] && mac=$MAC_B
  host=10; [[ $side == b ]] && host=11
  ip -n "$ns" link set lo up
  ip -n "$ns" link set "veth-$side" address "$mac" addrgenmode none
  ip -n "$ns" addr add "198.51.100.$host/24" dev "veth-$side"
  ip -n "$ns" addr add "2001:db8:100::$side/64" dev "veth-$side" nodad
  # Neighbor probing without the default 5 s pause, for the unicast (NUD) probe scenario.
  ip netns exec "$ns" sysctl -q -w "net.ipv4.neigh.veth-$side.delay_first_probe_time=1" \
    "net.ipv6.neigh.veth-$side.delay_first_probe_time=1"
  ip -n "$ns" link set "veth-$side" up
done
sleep 1

# Runs the command given with tcpdump capturing on veth-a in namespace a; the pcap file is $WORK/<name>.pcap.
capture() {
  local name=$1
  shift
  ip netns exec "$A" tcpdump -i veth-a --immediate-mode -U -Z root -w "$WORK/$name.pcap" 2>"$WORK/$name.log" &
  TCPDUMP_PID=$!
  for _ in $(seq 50); do grep -qs 'listening on' "$WORK/$name.log" && break; sleep 0.1; done
  "$@" >/dev/null 2>&1 || true
  sleep 0.5
  kill "$TCPDUMP_PID"
  wait "$TCPDUMP_PID" 2>/dev/null || true
  TCPDUMP_PID=
}

nud_probe_v4() {
  inA ip neigh replace 198.51.100.11 dev veth-a lladdr "$MAC_B" nud stale
  inA ping -c 1 -W 1 198.51.100.11
  sleep 2.5
}
# Sends Neighbor Solicitations that no Linux tool sends (unicast, without a source link-layer address option, from
# the unspecified address as in DAD) out of veth-a through an AF_PACKET socket, to capture how b's kernel answers.
# They are built here, independently of the TypeScript codec: (ethernet destination, IPv6 source, IPv6 destination,
# target, source link-layer address option or ""); b's neighbor cache is emptied first.
inject_solicitation() {
  ip -n "$B" neigh flush dev veth-b
  inA python3 - "$@" "$MAC_A" <<'PY'
import ipaddress, socket, struct, sys, time
eth_dst, src, dst, target, slla, own = sys.argv[1:7]
mac = lambda text: bytes.fromhex(text.replace(':', ''))
ip6 = lambda text: ipaddress.IPv6Address(text).packed
body = struct.pack('!BBHI', 135, 0, 0, 0) + ip6(target) + (bytes([1, 1]) + mac(slla) if slla else b'')
pseudo = ip6(src) + ip6(dst) + struct.pack('!I3xB', len(body), 58) + body
total = sum(struct.unpack('!%dH' % (len(pseudo) // 2), pseudo))
while total > 0xffff:
    total = (total & 0xffff) + (total >> 16)
icmp = body[:2] + struct.pack('!H', ~total & 0xffff) + body[4:]
ipv6 = struct.pack('!IHBB', 6 << 28, len(icmp), 58, 255) + ip6(src) + ip6(dst) + icmp
with socket.socket(socket.AF_PACKET, socket.SOCK_RAW) as sock:
    sock.bind(('veth-a', 0))
    sock.send(mac(eth_dst) + mac(own) + b'\x86\xdd' + ipv6)
time.sleep(0.5)
PY
}
notify_on_new_mac() {
  inA sysctl -q -w net.ipv4.conf.veth-a.arp_notify=1 net.ipv6.conf.veth-a.ndisc_notify=1
  inA ip link set veth-a address "$MAC_A_NEW"
  sleep 1
}

capture kernelPing4 inA ping -c 1 -W 1 198.51.100.11
capture kernelPing6 inA ping -6 -c 1 -W 1 2001:db8:100::b
capture kernelProbe4 nud_probe_v4
# (No IPv6 NUD probe: Linux sources a unicast probe from the link-local address, and these links have none.)
capture injectedUnicastSolicit inject_solicitation "$MAC_B" 2001:db8:100::a 2001:db8:100::b 2001:db8:100::b "$MAC_A"
capture injectedUnicastSolicitNoOption inject_solicitation "$MAC_B" 2001:db8:100::a 2001:db8:100::b 2001:db8:100::b ""
capture injectedDadSolicit inject_solicitation 33:33:ff:00:00:0b :: ff02::1:ff00:b 2001:db8:100::b ""
capture arpingRequest inA arping -c 1 -w 1 -I veth-a 198.51.100.11
capture arpingUnsolicited inA arping -U -c 1 -w 1 -I veth-a 198.51.100.10
capture arpingAnswer inA arping -A -c 1 -w 1 -I veth-a 198.51.100.10
capture arpingDuplicate inA arping -D -c 1 -w 1 -I veth-a 198.51.100.11
capture ndisc6Solicit inA ndisc6 -1 -r 1 -w 500 2001:db8:100::b veth-a
capture kernelNotify notify_on_new_mac

echo "// Generated by src/protocol/testdata/capture-linux-frames.sh (read it for the set-up); do not edit by hand."
echo "// Frames captured on Linux: two network namespaces joined by veth, tcpdump --immediate-mode -U -Z root -w inside"
echo "// one of them on veth-a, so both directions and no padding (veth does not pad short frames)."
echo "// MAC a = $MAC_A (from kernelNotify on $MAC_A_NEW), MAC b = $MAC_B; 198.51.100.10/.11, 2001:db8:100::a/::b."
echo "// Every frame is built by Linux (kernel, arping, ndisc6) except the first of each injected* list, a solicitation"
echo "// the script builds in python3 and sends through AF_PACKET. Only ARP frames and ICMPv6 Neighbor Solicitations"
echo "// and Advertisements are kept, each with the line tcpdump -e -v prints for it. Frames of one list are in capture"
echo "// order; a list can also hold late frames of the scenario before it (neighbor probes). The tests name frames by"
echo "// position: check them after regenerating."
echo "// Linux $(uname -r), $(tcpdump --version 2>&1 | head -1), $(arping -V 2>&1 | head -1), ndisc6 $(ndisc6 -V 2>&1 | head -1 | grep -o '[0-9]\+\.[0-9.]*' | head -1)."
for pcap in "$WORK"/*.pcap; do
  name=$(basename "$pcap" .pcap)
  echo
  echo "export const $name: readonly string[] = ["
  tcpdump -r "$pcap" -t -nn -e -v -xx 2>/dev/null | awk '
    function flush() {
      if (summary != "" && keep) { printf "  // %s\n  \x27%s\x27,\n", summary, hex }
      summary = ""; hex = ""; keep = 0
    }
    /^\t0x[0-9a-f]+:/ { for (i = 2; i <= NF; i++) hex = hex $i; next }
    /^[ \t]/ { sub(/^[ \t]+/, ""); if (summary != "") summary = summary " " $0; if ($0 ~ /neighbor (solicitation|advertisement)/) keep = 1; next }
    { flush(); summary = $0; keep = ($0 ~ /ethertype ARP|neighbor (solicitation|advertisement)/) }
    END { flush() }
  '
  echo "];"
done
