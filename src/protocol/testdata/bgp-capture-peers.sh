#!/usr/bin/env bash
# Captures the BGP messages that real BGP daemons send (gobgpd, BIRD 2, FRR bgpd) and prints them as the TypeScript
# module bgp-captures.ts beside this script:
#
#   bash src/protocol/testdata/bgp-capture-peers.sh > src/protocol/testdata/bgp-captures.ts
#
# Two network namespaces joined by a veth pair: blbbgpcp-peer (the daemon, 198.51.100.1 and 2001:db8:1::1) and
# blbbgpcp-node (198.51.100.11, 198.51.100.12 and 2001:db8:1::11). Addresses only from the documentation ranges.
# Inside blbbgpcp-node a small BGP client written for this capture (python3, below) connects to the daemon, sends
# OPEN/KEEPALIVE and whatever each scenario calls for, and records every message the daemon sends as raw bytes,
# split at the BGP header's length field. Routes are injected with the daemon's own CLI (gobgp, birdc, vtysh) while
# the session is up, so each UPDATE is tagged with the step that provoked it.
# Daemons are stopped and the namespaces deleted on exit, also on failure; the root namespace is not touched.
# KEEP_LOGS=DIR keeps the daemons' logs and the raw capture there. Needs root, iproute2, python3, gobgpd/gobgp, bird2 (bird, birdc) and frr (/usr/lib/frr/{zebra,bgpd}, vtysh).
set -euo pipefail

PEER=blbbgpcp-peer
NODE=blbbgpcp-node
WORK=$(mktemp -d /tmp/blbbgpcp-capture.XXXXXX)
chmod 755 "$WORK"
PIDFILES=()

log() { echo "[capture] $*" >&2; }

stop_pid() { # $1 = pid file; SIGTERM, bounded wait, then SIGKILL
  local file=$1 pid
  [[ -s $file ]] || return 0
  pid=$(cat "$file")
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 40); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
}

cleanup() {
  local file
  for file in "${PIDFILES[@]}"; do stop_pid "$file"; done
  ip netns del "$PEER" 2>/dev/null || true
  ip netns del "$NODE" 2>/dev/null || true
  if [[ -n ${KEEP_LOGS:-} ]]; then mkdir -p "$KEEP_LOGS"; cp "$WORK"/*.log "$WORK"/*.jsonl "$WORK"/frr/*.log "$KEEP_LOGS"/ 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

ip netns add "$PEER"
ip netns add "$NODE"
ip -n "$PEER" link set lo up
ip -n "$NODE" link set lo up
ip -n "$PEER" link add eth0 type veth peer name eth0 netns "$NODE"
ip -n "$PEER" link set eth0 address 02:bb:00:00:01:01
ip -n "$NODE" link set eth0 address 02:bb:00:00:01:11
ip -n "$PEER" addr add 198.51.100.1/24 dev eth0
ip -n "$PEER" addr add 2001:db8:1::1/64 dev eth0 nodad
ip -n "$NODE" addr add 198.51.100.11/24 dev eth0
ip -n "$NODE" addr add 198.51.100.12/24 dev eth0
ip -n "$NODE" addr add 2001:db8:1::11/64 dev eth0 nodad
ip -n "$PEER" link set eth0 up
ip -n "$NODE" link set eth0 up
sleep 2 # link-local addresses (fe80::bb:ff:fe00:101) finish DAD

# ---------------------------------------------------------------------------------------------------------------
# The client. Steps (JSON list) drive one or more sessions; every message received is appended to the JSONL output
# as {"scenario", "session", "step", "hex"}.
cat > "$WORK/client.py" <<'PYTHON'
import json, select, socket, struct, subprocess, sys, time

scenario, steps_file, out_file = sys.argv[1], sys.argv[2], sys.argv[3]
steps = json.load(open(steps_file))
out = open(out_file, 'a')
MARKER = b'\xff' * 16
NAMES = {1: 'OPEN', 2: 'UPDATE', 3: 'NOTIFICATION', 4: 'KEEPALIVE', 5: 'ROUTE-REFRESH'}

def message(kind, body):
    return MARKER + struct.pack('!HB', 19 + len(body), kind) + body

def capability(code, value):
    return bytes([code, len(value)]) + value

def open_message(spec):
    asn = spec['as']
    caps = []
    for name in spec.get('caps', []):
        if name == 'mp4': caps.append(capability(1, struct.pack('!HBB', 1, 0, 1)))
        elif name == 'mp6': caps.append(capability(1, struct.pack('!HBB', 2, 0, 1)))
        elif name == 'rr': caps.append(capability(2, b''))
        elif name == 'as4': caps.append(capability(65, struct.pack('!I', asn)))
        elif name == 'gr': caps.append(capability(64, struct.pack('!HHBBHBB', 120, 1, 1, 0x80, 2, 1, 0x80)))
    params = b''.join(bytes([2, len(c)]) + c for c in caps)
    my_as = asn if asn <= 0xFFFF else 23456
    body = struct.pack('!BHH4sB', 4, my_as, spec.get('hold', 90), socket.inet_aton(spec['id']), len(params)) + params
    return message(1, body)

class Session:
    def __init__(self, sock, number):
        self.sock, self.number, self.buffer, self.closed = sock, number, b'', False
        self.keepalives, self.last_sent, self.keepalive_every = True, time.time(), 20.0
        self.seen, self.consumed = [], 0

    def send(self, data):
        self.sock.sendall(data)
        self.last_sent = time.time()

    def poll(self, timeout):
        """Messages that arrive within timeout (all complete ones in the buffer, at least)."""
        got = []
        if not self.closed:
            ready, _, _ = select.select([self.sock], [], [], timeout)
            if ready:
                try:
                    data = self.sock.recv(65536)
                except (ConnectionResetError, OSError):
                    data = b''
                if not data:
                    self.closed = True
                self.buffer += data
        while len(self.buffer) >= 19:
            length = struct.unpack('!H', self.buffer[16:18])[0]
            if length < 19 or len(self.buffer) < length:
                break
            got.append(self.buffer[:length])
            self.buffer = self.buffer[length:]
        if self.keepalives and not self.closed and time.time() - self.last_sent > self.keepalive_every:
            self.send(message(4, b''))
        return got

session = None
sessions = 0
label = 'start'

def record(msgs):
    for m in msgs:
        kind = m[18]
        out.write(json.dumps({'scenario': scenario, 'session': session.number, 'step': label, 'hex': m.hex()}) + '\n')
        out.flush()
        session.seen.append(NAMES.get(kind, str(kind)))
        print(f'[client] {scenario}/{session.number} {label}: {NAMES.get(kind, kind)} {len(m)} bytes', file=sys.stderr)
        if kind == 1 and session.auto_keepalive:
            session.send(message(4, b''))
    return msgs

def connect(spec):
    global session, sessions
    deadline = time.time() + spec.get('within', 60)
    while True:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind((spec['source'], 0))
        sock.settimeout(3)
        try:
            sock.connect((spec['peer'], 179))
            sock.settimeout(None)
            session = Session(sock, 0)
            session.auto_keepalive = spec.get('autoKeepalive', True)
            session.keepalives = spec.get('keepalives', True)
            session.send(bytes.fromhex(spec['openHex']) if 'openHex' in spec else open_message(spec))
            # The daemon sends its OPEN at once; an accept it does not want is closed without one.
            first = []
            until = time.time() + 3
            while not first and not session.closed and time.time() < until:
                first = session.poll(0.2)
            if first:
                sessions += 1
                session.number = sessions
                record(first)
                return
            sock.close()
        except OSError as error:
            print(f'[client] connect: {error}', file=sys.stderr)
            sock.close()
        if time.time() > deadline:
            raise SystemExit(f'[client] {scenario}: no session with {spec["peer"]} within the deadline')
        time.sleep(1)

def wait_for(kind, timeout):
    """Until a message of this kind arrives that no earlier wait took (or the connection closes)."""
    until = time.time() + timeout
    while time.time() < until:
        for index in range(session.consumed, len(session.seen)):
            if session.seen[index] == kind:
                session.consumed = index + 1
                return
        record(session.poll(0.2))
        if session.closed and not session.buffer:
            if kind == 'closed':
                return
            raise SystemExit(f'[client] {scenario}: connection closed while waiting for {kind}')
    raise SystemExit(f'[client] {scenario}: no {kind} within {timeout} s')

def quiet(seconds, longest):
    start = last = time.time()
    while time.time() - last < seconds and time.time() - start < longest:
        if record(session.poll(0.1)):
            last = time.time()
        if session.closed and not session.buffer:
            return

for step in steps:
    if 'label' in step: label = step['label']
    if 'connect' in step: connect(step['connect'])
    if 'run' in step:
        result = subprocess.run(step['run'], shell=True, capture_output=True, text=True)
        print(f'[client] $ {step["run"]}\n{result.stdout}{result.stderr}', file=sys.stderr)
        if result.returncode != 0 and not step.get('mayFail'):
            raise SystemExit(f'[client] {scenario}: command failed: {step["run"]}')
    if 'send' in step:
        try:
            session.send(bytes.fromhex(step['send'].replace(' ', '')))
        except OSError as error:  # the daemon may have closed the session already
            print(f'[client] send: {error}', file=sys.stderr)
    if 'keepalives' in step: session.keepalives = step['keepalives']
    if 'expect' in step: wait_for(step['expect'], step.get('timeout', 15))
    if 'quiet' in step: quiet(step['quiet'], step.get('longest', 20))
    if 'sleep' in step: time.sleep(step['sleep'])
    if step.get('close'):
        session.sock.close()
        session.closed = True
PYTHON

client() { # $1 = scenario, steps JSON on stdin
  cat > "$WORK/$1.json"
  ip netns exec "$NODE" python3 "$WORK/client.py" "$1" "$WORK/$1.json" "$WORK/captures.jsonl"
}

# Hex of messages the client sends on purpose.
BAD_TYPE='ffffffffffffffffffffffffffffffff 0013 09'                           # header: message type 9
BAD_LENGTH='ffffffffffffffffffffffffffffffff 0012 04'                         # header: KEEPALIVE of length 18
BAD_MARKER='ffffffffffffffffffffffffffffff00 0013 04'                         # header: marker not all ones
# UPDATE for 203.0.113.128/25 with ORIGIN value 5 (undefined): RFC 7606 section 7.1 says treat-as-withdraw.
BAD_ORIGIN='ffffffffffffffffffffffffffffffff 0030 02 0000 0014 40010105 4002060201 0000fde9 400304c633640b 19cb007180'
# UPDATE for 203.0.113.192/26 with a NEXT_HOP attribute of length 3 (RFC 7606 section 7.3: treat-as-withdraw).
BAD_NEXT_HOP='ffffffffffffffffffffffffffffffff 002f 02 0000 0013 40010100 4002060201 0000fde9 400303c63364 1acb0071c0'
# UPDATE whose Total Path Attribute Length (0x00ff) runs past the end of the message (RFC 4271 section 6.3).
BAD_ATTR_LENGTH='ffffffffffffffffffffffffffffffff 0017 02 0000 00ff'

# ---------------------------------------------------------------------------------------------------------------
# Scenario gobgpd: AS 65000, one eBGP neighbor (198.51.100.11, AS 65001, graceful restart) and one iBGP neighbor
# (198.51.100.12, AS 65000), both passive so that only the client connects.
G="gobgp --target unix://$WORK/gobgpd.sock"
cat > "$WORK/gobgpd.toml" <<EOF
[global.config]
as = 65000
router-id = "198.51.100.1"
[[neighbors]]
[neighbors.config]
neighbor-address = "198.51.100.11"
peer-as = 65001
[neighbors.transport.config]
passive-mode = true
[neighbors.timers.config]
idle-hold-time-after-reset = 1
[neighbors.graceful-restart.config]
enabled = true
restart-time = 120
[[neighbors.afi-safis]]
[neighbors.afi-safis.config]
afi-safi-name = "ipv4-unicast"
[neighbors.afi-safis.mp-graceful-restart.config]
enabled = true
[[neighbors.afi-safis]]
[neighbors.afi-safis.config]
afi-safi-name = "ipv6-unicast"
[neighbors.afi-safis.mp-graceful-restart.config]
enabled = true
[[neighbors]]
[neighbors.config]
neighbor-address = "198.51.100.12"
peer-as = 65000
[neighbors.transport.config]
passive-mode = true
[neighbors.timers.config]
idle-hold-time-after-reset = 1
[[neighbors.afi-safis]]
[neighbors.afi-safis.config]
afi-safi-name = "ipv4-unicast"
[[neighbors.afi-safis]]
[neighbors.afi-safis.config]
afi-safi-name = "ipv6-unicast"
EOF
start_gobgpd() { # $1 = config name
  rm -f "$WORK/$1.sock"
  ip netns exec "$PEER" gobgpd -f "$WORK/$1.toml" -p --pprof-disable --api-hosts="unix://$WORK/$1.sock" >"$WORK/$1.log" 2>&1 &
  echo $! > "$WORK/$1.pid"
  PIDFILES+=("$WORK/$1.pid")
  for _ in $(seq 50); do [[ -S $WORK/$1.sock ]] && return 0; sleep 0.1; done
  log "gobgpd $1 did not start"; cat "$WORK/$1.log" >&2; return 1
}
log 'gobgpd'
start_gobgpd gobgpd
$G global rib add -a ipv4 203.0.113.0/24 origin igp aspath '65100,65200' med 50 community 65000:100,no-export large-community 65000:1:2
$G global rib add -a ipv4 203.0.113.10/32 origin igp med 10 community 65000:200
$G global rib add -a ipv4 203.0.113.11/32 origin igp med 10 community 65000:200
$G global rib add -a ipv6 2001:db8:ff::/48 origin igp nexthop 2001:db8:1::1 community 65000:600 large-community 65000:6:6,65000:6:7

EBGP='{"source": "198.51.100.11", "peer": "198.51.100.1", "as": 65001, "id": "198.51.100.11", "hold": 90, "caps": ["mp4", "mp6", "rr", "as4", "gr"]}'
IBGP='{"source": "198.51.100.12", "peer": "198.51.100.1", "as": 65000, "id": "198.51.100.12", "hold": 90, "caps": ["mp4", "mp6", "rr", "as4"]}'
client gobgpd <<EOF
[
 {"label": "eBGP session (client AS 65001): OPEN and KEEPALIVE", "connect": $EBGP},
 {"expect": "KEEPALIVE"},
 {"label": "eBGP session: initial table and End-of-RIB", "quiet": 2},
 {"label": "added 203.0.113.20/32 origin incomplete, AS_PATH with a set, aggregator",
  "run": "$G global rib add -a ipv4 203.0.113.20/32 origin incomplete aspath '65100,{65201,65202}' aggregator 65100:198.51.100.9 community no-advertise,65535:666"},
 {"quiet": 1.5},
 {"label": "added 2001:db8:ff::20/128 origin egp", "run": "$G global rib add -a ipv6 2001:db8:ff::20/128 origin egp nexthop 2001:db8:1::1 med 7"},
 {"quiet": 1.5},
 {"label": "deleted 203.0.113.20/32", "run": "$G global rib del -a ipv4 203.0.113.20/32"},
 {"quiet": 1.5},
 {"label": "deleted 2001:db8:ff::20/128", "run": "$G global rib del -a ipv6 2001:db8:ff::20/128"},
 {"quiet": 1.5},
 {"label": "client sent UPDATE with ORIGIN 5", "send": "$BAD_ORIGIN"},
 {"quiet": 1.5},
 {"label": "client sent UPDATE with NEXT_HOP of length 3", "send": "$BAD_NEXT_HOP"},
 {"quiet": 1.5},
 {"label": "client sent a KEEPALIVE of length 18", "send": "$BAD_LENGTH"},
 {"expect": "closed"},

 {"label": "iBGP session (client AS 65000): OPEN and KEEPALIVE", "connect": $IBGP},
 {"expect": "KEEPALIVE"},
 {"label": "iBGP session: initial table (LOCAL_PREF)", "quiet": 2},
 {"label": "client sent UPDATE whose attributes run past the message", "send": "$BAD_ATTR_LENGTH"},
 {"expect": "closed"},

 {"label": "OPEN with hold time 2", "connect": {"source": "198.51.100.11", "peer": "198.51.100.1", "as": 65001, "id": "198.51.100.11", "hold": 2, "caps": ["mp4", "as4"]}},
 {"expect": "closed"},
 {"label": "OPEN from the wrong AS (65099)", "connect": {"source": "198.51.100.11", "peer": "198.51.100.1", "as": 65099, "id": "198.51.100.11", "hold": 90, "caps": ["mp4", "as4"]}},
 {"expect": "closed"},
 {"label": "OPEN with BGP version 3", "connect": {"source": "198.51.100.11", "peer": "198.51.100.1", "as": 65001, "id": "198.51.100.11", "openHex": "ffffffffffffffffffffffffffffffff001d0103fde9005ac633640b00"}},
 {"expect": "closed"},
 {"label": "marker not all ones", "connect": $EBGP},
 {"expect": "KEEPALIVE"},
 {"quiet": 2},
 {"label": "client sent a KEEPALIVE whose marker is not all ones (gobgpd accepts it)", "send": "$BAD_MARKER"},
 {"quiet": 3},
 {"close": true},
 {"label": "hold time 3 and no KEEPALIVE from the client", "connect": {"source": "198.51.100.11", "peer": "198.51.100.1", "as": 65001, "id": "198.51.100.11", "hold": 3, "caps": ["mp4", "as4"], "keepalives": false}},
 {"expect": "NOTIFICATION", "timeout": 10},
 {"expect": "closed"},
 {"label": "eBGP session again; then the daemon is stopped (SIGTERM)", "connect": $EBGP},
 {"expect": "KEEPALIVE"},
 {"quiet": 2},
 {"label": "daemon stopped with SIGTERM", "run": "kill \$(cat $WORK/gobgpd.pid)"},
 {"expect": "closed", "timeout": 10}
]
EOF
stop_pid "$WORK/gobgpd.pid"
cp "$WORK/gobgpd.log" "$WORK/gobgpd-main.log"
# gobgpd 3.10.0 dies (nil pointer dereference in fsmHandler.handlingError) when an established session receives a
# message of an unknown type: no NOTIFICATION, the connection is reset. Kept as its own run, last.
log 'gobgpd: message of type 9'
start_gobgpd gobgpd
client gobgpd-bad-type <<EOF
[
 {"label": "eBGP session (client AS 65001): OPEN, KEEPALIVE, End-of-RIB", "connect": $EBGP},
 {"expect": "KEEPALIVE"},
 {"quiet": 2},
 {"label": "client sent a message of type 9", "send": "$BAD_TYPE"},
 {"expect": "closed", "timeout": 10}
]
EOF
stop_pid "$WORK/gobgpd.pid"
cp "$WORK/gobgpd.log" "$WORK/gobgpd-bad-type.log"

# ---------------------------------------------------------------------------------------------------------------
# Scenario gobgpd-as4: gobgpd with a 4-octet AS (4200000000) and a client that does not announce the 4-octet AS
# capability (an "OLD" speaker per RFC 6793): the daemon's OPEN carries AS_TRANS, and its UPDATEs carry a 2-octet
# AS_PATH with AS_TRANS plus AS4_PATH, and AGGREGATOR with AS_TRANS plus AS4_AGGREGATOR.
G4="gobgp --target unix://$WORK/gobgpd-as4.sock"
cat > "$WORK/gobgpd-as4.toml" <<EOF
[global.config]
as = 4200000000
router-id = "198.51.100.1"
[[neighbors]]
[neighbors.config]
neighbor-address = "198.51.100.11"
peer-as = 65001
[neighbors.transport.config]
passive-mode = true
[[neighbors.afi-safis]]
[neighbors.afi-safis.config]
afi-safi-name = "ipv4-unicast"
EOF
log 'gobgpd-as4'
start_gobgpd gobgpd-as4
$G4 global rib add -a ipv4 203.0.113.64/26 origin igp aspath '4200000001,65100' aggregator 4200000001:198.51.100.9
client gobgpd-as4 <<EOF
[
 {"label": "2-octet client: OPEN and KEEPALIVE", "connect": {"source": "198.51.100.11", "peer": "198.51.100.1", "as": 65001, "id": "198.51.100.11", "hold": 90, "caps": ["mp4", "rr"]}},
 {"expect": "KEEPALIVE"},
 {"label": "2-octet client: initial table (AS4_PATH, AS4_AGGREGATOR)", "quiet": 2},
 {"close": true}
]
EOF
stop_pid "$WORK/gobgpd-as4.pid"

# ---------------------------------------------------------------------------------------------------------------
# Scenario bird: BIRD 2 as AS 65000 exporting static routes with MED, communities and large communities, IPv4 and
# IPv6 (MP-BGP over the IPv4 session).
cat > "$WORK/bird.conf" <<EOF
router id 198.51.100.1;
log "$WORK/bird.log" all;
protocol device {}
protocol static s4 {
  ipv4;
  route 203.0.113.0/24 blackhole;
  route 203.0.113.10/32 blackhole;
}
protocol static s6 {
  ipv6;
  route 2001:db8:ff::/48 blackhole;
}
filter out_attrs {
  if net = 203.0.113.0/24 then {
    bgp_med = 50;
    bgp_community.add((65000,100));
    bgp_community.add((65535,65281));
    bgp_large_community.add((65000,1,2));
  }
  if net = 2001:db8:ff::/48 then bgp_large_community.add((65000,6,6));
  accept;
}
protocol bgp n1 {
  local 198.51.100.1 as 65000;
  neighbor 198.51.100.11 as 65001;
  passive on;
  graceful restart on;
  ipv4 { import all; export filter out_attrs; };
  ipv6 { import all; export filter out_attrs; next hop address 2001:db8:1::1; };
}
EOF
log 'bird'
bird -p -c "$WORK/bird.conf"
ip netns exec "$PEER" bird -c "$WORK/bird.conf" -s "$WORK/bird.ctl" -P "$WORK/bird.pid"
PIDFILES+=("$WORK/bird.pid")
B="birdc -s $WORK/bird.ctl"
client bird <<EOF
[
 {"label": "OPEN and KEEPALIVE", "connect": $EBGP},
 {"expect": "KEEPALIVE"},
 {"label": "initial table and End-of-RIB", "quiet": 3},
 {"label": "client sent ROUTE-REFRESH for IPv6 unicast", "send": "ffffffffffffffffffffffffffffffff 0017 05 0002 00 01"},
 {"quiet": 4},
 {"label": "birdc reload in n1: the daemon asks for our routes", "run": "$B reload in n1"},
 {"quiet": 1.5},
 {"label": "client sent UPDATE with ORIGIN 5", "send": "$BAD_ORIGIN"},
 {"quiet": 1.5},
 {"label": "birdc disable n1", "run": "$B disable n1"},
 {"expect": "closed", "timeout": 10}
]
EOF
stop_pid "$WORK/bird.pid"

# ---------------------------------------------------------------------------------------------------------------
# Scenario frr: FRR bgpd (with zebra, explicit paths as in BGP-PEERS.md 5b) as AS 65000 announcing networks with a
# route-map that sets MED, communities and large communities.
F=$WORK/frr
install -d -o frr -g frr "$F"
cat > "$WORK/frr.conf.in" <<'EOF'
route-map OUT permit 10
 match ip address prefix-list P4
 set metric 50
 set community 65000:100 no-export
 set large-community 65000:1:2
route-map OUT permit 20
ip prefix-list P4 seq 5 permit 203.0.113.0/24
router bgp 65000
 bgp router-id 198.51.100.1
 no bgp ebgp-requires-policy
 no bgp network import-check
 neighbor 198.51.100.11 remote-as 65001
 neighbor 198.51.100.11 passive
 address-family ipv4 unicast
  network 203.0.113.0/24
  network 203.0.113.10/32
  neighbor 198.51.100.11 route-map OUT out
 exit-address-family
 address-family ipv6 unicast
  network 2001:db8:ff::/48
  neighbor 198.51.100.11 activate
 exit-address-family
EOF
install -o frr -g frr -m 640 "$WORK/frr.conf.in" "$F/frr.conf"
O="-P 0 -z $F/zserv.api --vty_socket $F"
log 'frr'
ip netns exec "$PEER" /usr/lib/frr/zebra -d $O -i "$F/zebra.pid" -f /dev/null --log "file:$F/zebra.log"
PIDFILES+=("$F/zebra.pid")
ip netns exec "$PEER" /usr/lib/frr/bgpd -d $O -i "$F/bgpd.pid" -f "$F/frr.conf" --log "file:$F/bgpd.log"
PIDFILES+=("$F/bgpd.pid")
V="vtysh --vty_socket $F"
client frr <<EOF
[
 {"label": "OPEN and KEEPALIVE", "connect": $EBGP},
 {"expect": "KEEPALIVE"},
 {"label": "initial table and End-of-RIB", "quiet": 3},
 {"label": "clear bgp soft in: the daemon asks for our routes", "run": "$V -c 'clear bgp ipv4 unicast 198.51.100.11 soft in'"},
 {"quiet": 1.5},
 {"label": "client sent UPDATE with ORIGIN 5", "send": "$BAD_ORIGIN"},
 {"quiet": 1.5},
 {"label": "client sent a message of type 9", "send": "$BAD_TYPE"},
 {"expect": "closed", "timeout": 10}
]
EOF
stop_pid "$F/bgpd.pid"
stop_pid "$F/zebra.pid"

# ---------------------------------------------------------------------------------------------------------------
# The TypeScript module.
GOBGP_VERSION=$(gobgpd --version | head -1)
BIRD_VERSION=$(bird --version 2>&1 | head -1)
FRR_VERSION=$(/usr/lib/frr/bgpd --version | head -1)
KERNEL="$(uname -s) $(uname -r)"
python3 - "$WORK" "$GOBGP_VERSION" "$BIRD_VERSION" "$FRR_VERSION" "$KERNEL" <<'PYTHON'
import json, os, re, sys
work, gobgp, bird, frr, kernel = sys.argv[1:]
records = [json.loads(line) for line in open(os.path.join(work, 'captures.jsonl'))]

def log_lines(name, patterns):
    """Lines of a daemon log that match, without timestamps, for the comments below."""
    path = os.path.join(work, name)
    if not os.path.exists(path):
        return []
    found = []
    for line in open(path, errors='replace'):
        if any(p in line for p in patterns):
            line = re.sub(r'^time="[^"]*" ', '', line.strip())
            line = re.sub(r'^\S+ \S+ ', '', line) if not line.startswith(('level=', 'panic', 'github.com')) else line
            found.append(line[:150])
    return found[:6]

logs = {
    'gobgpd': log_lines('gobgpd-main.log', ['treated as withdraw']),
    'gobgpd-bad-type': log_lines('gobgpd-bad-type.log', ['panic:', 'handlingError']),
    'bird': log_lines('bird.log', ['Malformed', 'Invalid route']),
    'frr': log_lines('frr/bgpd.log', ['Origin attribute', 'treating as withdrawal', 'wrong prefix length', 'Error parsing NLRI']),
}
names = {1: 'OPEN', 2: 'UPDATE', 3: 'NOTIFICATION', 4: 'KEEPALIVE', 5: 'ROUTE-REFRESH'}
print('// Generated by src/protocol/testdata/bgp-capture-peers.sh (read it for the set-up); do not edit by hand.')
print('// BGP messages sent by real daemons to a small BGP client written for the capture, over TCP between two')
print('// network namespaces (daemon 198.51.100.1 / 2001:db8:1::1, client 198.51.100.11 and .12). Each entry is one')
print('// message as it came off the TCP stream, split at the header length; `step` says what the client or the')
print('// script had just done. Only messages the daemons sent are kept, in arrival order; `session` counts the TCP')
print('// connections of one scenario. The tests find messages by step and type: check them after regenerating.')
print(f'// {gobgp}; {bird}; {frr}; {kernel}.')
print()
print('export interface CapturedBgpMessage {')
print('  readonly session: number;')
print('  readonly step: string;')
print('  readonly hex: string;')
print('}')
for scenario, ident in (('gobgpd', 'gobgpd'), ('gobgpd-bad-type', 'gobgpdBadType'), ('gobgpd-as4', 'gobgpdFourOctetAs'), ('bird', 'bird'), ('frr', 'frr')):
    print()
    if logs.get(scenario):
        print(f'// What {scenario} logged about the bad messages:')
        for line in logs[scenario]:
            print(f'//   {line}')
    print(f'export const {ident}: readonly CapturedBgpMessage[] = [')
    for r in (r for r in records if r['scenario'] == scenario):
        kind = int(r['hex'][36:38], 16)
        print(f'  // {names.get(kind, kind)}, {len(r["hex"]) // 2} bytes')
        print(f'  {{ session: {r["session"]}, step: {json.dumps(r["step"])}, hex: \'{r["hex"]}\' }},')
    print('];')
PYTHON
log 'done'
