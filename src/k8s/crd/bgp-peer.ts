// BGPPeer: a router that speakers open a BGP session to.
import {
  arr,
  asn,
  bool,
  conditions,
  duration,
  int,
  ipAddress,
  labelSelector,
  obj,
  objectName,
  str,
} from './schema-builders.ts';
import type { CrdDefinition } from './crd-definition.ts';
import { interfaceEntryRules } from './interface-entry-rules.ts';

const spec = obj(
  'How to reach the router and what to negotiate with it.',
  {
    myASN: asn('The autonomous system number the speakers use on this session.'),
    peerASN: asn(
      'The autonomous system number of the router. Equal to myASN for iBGP. Exactly one of peerASN and dynamicASN.',
    ),
    dynamicASN: str(
      'For a router whose ASN is not known in advance: internal accepts only myASN (iBGP), external any ASN but myASN ' +
        '(eBGP); the ASN the router announces in its OPEN is used and shown in status.sessions. Exactly one of ' +
        'peerASN and dynamicASN.',
      { enum: ['internal', 'external'] },
    ),
    peerAddress: ipAddress(
      'The router address to connect to (IPv4 or IPv6). Absent (with interface): unnumbered peering, the router is ' +
        'found on interface by its IPv6 Router Advertisements.',
    ),
    peerPort: int('The TCP port of the router.', { minimum: 1, maximum: 65535, default: 179 }),
    interface: str(
      'The node interface a link-local (fe80::/10) peerAddress is reached over; required with a link-local ' +
        "peerAddress, not allowed with another one. Without peerAddress: unnumbered peering (as FRR's neighbor IF " +
        'interface, RFC 5549/8950): each selected node finds the router on this interface by the IPv6 Router ' +
        'Advertisements it sends (their source is its link-local address; the node solicits one at start) and ' +
        'connects there, following the router when its address changes; a node that hears none in 30s reports it ' +
        '(Event RouterNotFound) and connects once one arrives. A name, or a pattern (eth*, enp*s0, ens[0-9]: * any characters, ? one character, ' +
        '[a-z] and [!a-z] one character of or outside a set) that must match exactly one interface on each selected ' +
        'node (nodeSelector), so nodes whose uplinks are named differently share one BGPPeer; a node where it matches ' +
        'none or several opens no session and reports it. IPv6 routes then carry the link-local next hop too (RFC 2545).',
      { minLength: 1, maxLength: 64, pattern: '^[^/%\\s]+$', 'x-kubernetes-validations': interfaceEntryRules },
    ),
    sourceAddress: ipAddress(
      'The local address to connect from. Absent: sourceInterface, else chosen by the kernel routing table.',
    ),
    sourceInterface: str(
      'Connect from the address this node interface has in the family of peerAddress (IPv6: a global one; the first ' +
        'when it has several), so that nodes choose their uplink by interface rather than by a node-specific address ' +
        "(kube-vip's bgp_sourceif). A name, or a pattern as for interface that must match exactly one interface on " +
        'each selected node; a node where it matches none or several, or whose interface has no such address, opens ' +
        'no session and reports it. Not with sourceAddress, nor with a link-local peerAddress (interface).',
      { minLength: 1, maxLength: 64, pattern: '^[^/%\\s]+$', 'x-kubernetes-validations': interfaceEntryRules },
    ),
    holdTime: duration('The hold time proposed in OPEN (RFC 4271): 0 disables keepalives, else at least 3s.', {
      default: '90s',
    }),
    keepaliveTime: duration('The interval between KEEPALIVE messages. Absent: a third of the negotiated hold time.'),
    connectTime: duration('How long to wait between connection attempts (ConnectRetryTimer).', { default: '10s' }),
    passwordSecretRef: obj(
      'A Secret in the BGP password namespace (beaconlb-bgp-passwords, the speaker --password-namespace: the only Secrets the speaker may read) holding the TCP MD5 (RFC 2385) password. The password is never logged.',
      {
        name: objectName('The Secret name.'),
        key: str('The key in the Secret.', { minLength: 1, maxLength: 253, default: 'password' }),
      },
      { required: ['name'] },
    ),
    nodeSelector: labelSelector(
      'Only speakers on nodes with matching labels peer with this router. Absent: all nodes.',
    ),
    ebgpMultiHop: bool('Allow the router to be more than one hop away (IP TTL 255 instead of 1) for eBGP.', {
      default: false,
    }),
    routerID: str('The BGP identifier to use (an IPv4 address). Absent: the node IPv4 address.', {
      maxLength: 15,
      'x-kubernetes-validations': [
        { rule: 'isIP(self) && ip(self).family() == 4', message: 'must be an IPv4 address' },
      ],
    }),
    gracefulRestart: obj('Graceful restart (RFC 4724): the router keeps forwarding while a speaker restarts.', {
      enabled: bool('Negotiate graceful restart.', { default: false }),
      restartTime: duration('How long the router should keep our routes while we restart (at most 4095s).', {
        default: '120s',
      }),
    }),
    passive: bool('Wait for the router to connect instead of connecting.', { default: false }),
    bfd: obj(
      'Bidirectional Forwarding Detection (RFC 5880/5881, single hop, asynchronous mode) with the router: when the BFD ' +
        'session goes down, the BGP session is torn down at once (Cease / BFD Down) instead of waiting for the hold ' +
        'time, and it starts again only when BFD is up. Present: enabled. The router must run BFD for this address ' +
        'too and be on a subnet of the node (single hop: packets with TTL 255, UDP port 3784). Detection time at the ' +
        'router: detectMultiplier x the slower of transmitInterval and its own receive interval.',
      {
        transmitInterval: duration(
          'The desired minimum interval between the BFD packets we send once the session is up (RFC 5880 Desired Min TX ' +
            'Interval); 1s while it is not up, as the RFC asks.',
          { default: '300ms' },
        ),
        receiveInterval: duration(
          'The minimum interval between BFD packets we can take from the router (RFC 5880 Required Min RX Interval).',
          { default: '300ms' },
        ),
        detectMultiplier: int('Packets missed in a row before the router declares us down (RFC 5880 Detect Mult).', {
          minimum: 2,
          maximum: 255,
          default: 3,
        }),
        passive: bool('Send nothing until the router has sent a BFD packet (RFC 5880 passive role).', {
          default: false,
        }),
      },
      {
        'x-kubernetes-validations': [
          {
            rule: "!has(self.transmitInterval) || (duration(self.transmitInterval) >= duration('10ms') && duration(self.transmitInterval) <= duration('60s'))",
            message: 'bfd.transmitInterval must be 10ms to 60s',
            fieldPath: '.transmitInterval',
          },
          {
            rule: "!has(self.receiveInterval) || (duration(self.receiveInterval) >= duration('10ms') && duration(self.receiveInterval) <= duration('60s'))",
            message: 'bfd.receiveInterval must be 10ms to 60s',
            fieldPath: '.receiveInterval',
          },
        ],
      },
    ),
    addressFamilies: arr(
      'The address families to negotiate (multiprotocol, RFC 4760). Absent: the family of peerAddress and, if the ' +
        'node has an address of the other family, that one too.',
      str('An address family.', { enum: ['ipv4-unicast', 'ipv6-unicast'] }),
      { minItems: 1, maxItems: 2, 'x-kubernetes-list-type': 'set' },
    ),
  },
  {
    required: ['myASN'],
    'x-kubernetes-validations': [
      {
        rule: 'has(self.peerAddress) || has(self.interface)',
        message:
          'set peerAddress, or interface alone for unnumbered peering (the router found on it by its Router Advertisements)',
        fieldPath: '.peerAddress',
      },
      {
        rule: 'has(self.peerASN) != has(self.dynamicASN)',
        message: 'set exactly one of peerASN (a number) and dynamicASN (internal or external)',
      },
      {
        rule: "!has(self.holdTime) || duration(self.holdTime) == duration('0s') || duration(self.holdTime) >= duration('3s')",
        message: 'holdTime must be 0s or at least 3s (RFC 4271 section 4.2)',
        fieldPath: '.holdTime',
      },
      {
        rule: "!has(self.holdTime) || duration(self.holdTime) <= duration('65535s')",
        message: 'holdTime must be at most 65535s',
        fieldPath: '.holdTime',
      },
      {
        rule: "!has(self.keepaliveTime) || !has(self.holdTime) || duration(self.holdTime) == duration('0s') || duration(self.keepaliveTime) < duration(self.holdTime)",
        message: 'keepaliveTime must be shorter than holdTime',
        fieldPath: '.keepaliveTime',
      },
      {
        rule: "!has(self.connectTime) || duration(self.connectTime) >= duration('1s')",
        message: 'connectTime must be at least 1s',
        fieldPath: '.connectTime',
      },
      {
        rule: "!has(self.gracefulRestart) || !has(self.gracefulRestart.restartTime) || duration(self.gracefulRestart.restartTime) <= duration('4095s')",
        message: 'gracefulRestart.restartTime must be at most 4095s (a 12-bit field, RFC 4724)',
        fieldPath: '.gracefulRestart.restartTime',
      },
      {
        // isLinkLocalUnicast() is true for 169.254.0.0/16 too: only IPv6 link-local peers need (and take) interface.
        rule: '!has(self.peerAddress) || has(self.interface) == (ip(self.peerAddress).family() == 6 && ip(self.peerAddress).isLinkLocalUnicast())',
        message:
          'a link-local peerAddress (fe80::/10) needs interface, and interface is only for a link-local peerAddress (or alone, for unnumbered peering)',
        fieldPath: '.interface',
      },
      {
        rule: '!has(self.bfd) || !has(self.ebgpMultiHop) || !self.ebgpMultiHop',
        message: 'bfd is single hop (RFC 5881): it cannot be used with ebgpMultiHop',
        fieldPath: '.bfd',
      },
      {
        rule: '!has(self.bfd) || !has(self.interface)',
        message:
          "bfd is not supported with a link-local or unnumbered peer (interface): peer with the router's global address",
        fieldPath: '.bfd',
      },
      {
        rule: '!has(self.sourceAddress) || !has(self.sourceInterface)',
        message: 'set sourceAddress or sourceInterface, not both',
        fieldPath: '.sourceInterface',
      },
      {
        rule: '!has(self.interface) || !has(self.sourceInterface)',
        message:
          'a link-local peer is reached over interface, from its link-local address: sourceInterface does not apply',
        fieldPath: '.sourceInterface',
      },
      {
        rule: '!has(self.sourceAddress) || has(self.peerAddress)',
        message:
          "sourceAddress needs peerAddress: an unnumbered peer (interface alone) is reached from the interface's link-local address",
        fieldPath: '.sourceAddress',
      },
      {
        rule: '!has(self.sourceAddress) || !has(self.peerAddress) || ip(self.sourceAddress).family() == ip(self.peerAddress).family()',
        message: 'sourceAddress and peerAddress must be of the same family',
        fieldPath: '.sourceAddress',
      },
    ],
  },
);

const status = obj('What the speakers report: each writes its own entry of sessions.', {
  observedGeneration: int('The .metadata.generation the status was computed for.', { format: 'int64', minimum: 0 }),
  conditions,
  sessions: arr(
    'The session of each speaker with this router, as last reported.',
    obj(
      'One speaker session.',
      {
        node: str('The node of the speaker.', { maxLength: 253 }),
        state: str('The BGP FSM state (RFC 4271 section 8.2.2).', {
          enum: ['Idle', 'Connect', 'Active', 'OpenSent', 'OpenConfirm', 'Established'],
        }),
        lastTransitionTime: str('When the state last changed.', { format: 'date-time' }),
        prefixesAdvertised: int('Prefixes currently advertised to the router.', { minimum: 0 }),
        peerASN: int('The ASN the router announced in its OPEN on the established session.', {
          format: 'int64',
          minimum: 1,
          maximum: 4294967295,
        }),
        bfdState: str('The BFD session state (RFC 5880 section 4.1), when spec.bfd is set.', {
          enum: ['AdminDown', 'Down', 'Init', 'Up'],
        }),
      },
      { required: ['node', 'state'] },
    ),
    { maxItems: 5000, 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['node'] },
  ),
});

export const bgpPeerCrd: CrdDefinition = {
  kind: 'BGPPeer',
  plural: 'bgppeers',
  singular: 'bgppeer',
  shortNames: ['bgppeer'],
  description: 'BGPPeer is a router that the speakers on the selected nodes open a BGP session to.',
  spec,
  status,
  printerColumns: [
    { name: 'Peer', type: 'string', jsonPath: '.spec.peerAddress' },
    { name: 'Interface', type: 'string', jsonPath: '.spec.interface', priority: 1 },
    { name: 'Peer ASN', type: 'integer', jsonPath: '.spec.peerASN' },
    { name: 'Dynamic ASN', type: 'string', jsonPath: '.spec.dynamicASN', priority: 1 },
    { name: 'My ASN', type: 'integer', jsonPath: '.spec.myASN' },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  ],
};
