// BGPPeer (v1beta1/v1beta2) -> BGPPeer, with a placeholder Secret for a plain password.
import type { BGPPeer } from '../api-types.generated.ts';
import { familyOf, parseIp } from '../../ip/ip-address.ts';
import {
  absent,
  field,
  isRecord,
  OBJECT_NAME,
  readBool,
  readInteger,
  readSelectorList,
  readString,
  unknownFields,
  type Source,
} from './metallb-source.ts';
import { narrowedUnion } from './selector-union.ts';
import { metadataFor, originOf } from './object-recognition.ts';
import { parseGoDuration } from './go-duration.ts';
import { MIGRATED_FROM_ANNOTATION, PASSWORD_PLACEHOLDER, type SecretManifest } from './migrated-objects.ts';
import type { BfdSpec } from './bfd-profile-translation.ts';
import type { Notes } from './migration-notes.ts';

const PEER_FIELDS = [
  'myASN',
  'peerASN',
  'localASN',
  'dynamicASN',
  'peerAddress',
  'interface',
  'sourceAddress',
  'peerPort',
  'holdTime',
  'keepaliveTime',
  'connectTime',
  'routerID',
  'nodeSelectors',
  'password',
  'passwordSecret',
  'bfdProfile',
  'enableGracefulRestart',
  'ebgpMultiHop',
  'vrf',
  'disableMP',
  'dualStackAddressFamily',
];
const MAX_ASN = 0xffffffff;

/** A duration field in whole seconds as FRR takes it (truncated); undefined when absent or invalid (noted). */
export function seconds(source: Source, key: string, notes: Notes): { seconds: number; rounded: boolean } | undefined {
  const text = field(source, key, readString, notes, 'left out');
  if (text?.value === undefined || text.value === '') return undefined;
  const ms = parseGoDuration(text.value);
  if (!ms.ok || ms.value < 0) {
    notes.add(
      'InvalidValue',
      source.ref,
      `spec.${key}`,
      `${JSON.stringify(text.value)} is not a non-negative duration; left out`,
    );
    return undefined;
  }
  const whole = Math.trunc(ms.value / 1000);
  return { seconds: whole, rounded: whole * 1000 !== ms.value };
}

interface PeerOutput {
  peer: BGPPeer;
  secret: SecretManifest | undefined;
}

// Long (~230 lines): a MetalLB BGPPeer translated field by field, each field's rule beside the others (the CRD's field order).
export function translatePeer(
  source: Source,
  secretNamespace: string,
  bfdProfiles: ReadonlyMap<string, BfdSpec>,
  notes: Notes,
): PeerOutput | undefined {
  unknownFields(source, PEER_FIELDS, notes);
  const leftOut = 'peer left out';
  /** An ASN field: undefined when absent, NaN when not an integer (the range checks below then report it once). */
  const asnField = (key: string): number | undefined => {
    const v = source.spec[key];
    return absent(v) ? undefined : typeof v === 'number' && Number.isInteger(v) ? v : Number.NaN;
  };
  const strs = (key: string, consequence: string): string | undefined =>
    field(source, key, readString, notes, consequence)?.value || undefined;
  const bools = (key: string): boolean | undefined => field(source, key, readBool, notes, 'treated as false')?.value;

  const myASN = asnField('myASN');
  const peerASN = asnField('peerASN');
  const localASN = asnField('localASN');
  const dynamicASN = strs('dynamicASN', 'ignored');
  const inRange = (asn: number | undefined): asn is number => asn !== undefined && asn >= 1 && asn <= MAX_ASN;
  if (!inRange(myASN)) {
    notes.add('InvalidValue', source.ref, 'spec.myASN', `missing or not 1 to ${MAX_ASN}; ${leftOut}`);
    return undefined;
  }
  let sessionASN = myASN;
  if (localASN !== undefined && localASN !== 0) {
    if (!inRange(localASN)) {
      notes.add('InvalidValue', source.ref, 'spec.localASN', `not 1 to ${MAX_ASN}; ${leftOut}`);
      return undefined;
    }
    sessionASN = localASN;
    notes.add(
      'LocalASNAsMyASN',
      source.ref,
      'spec.localASN',
      `Beacon LB sets the ASN per peer: myASN is ${localASN} (the router sees the same ASN as with local-as ... no-prepend replace-as; ${myASN} is not used)`,
    );
  }
  let remote: { peerASN: number } | { dynamicASN: 'internal' | 'external' };
  if (peerASN !== undefined && peerASN !== 0) {
    if (!inRange(peerASN)) {
      notes.add('InvalidValue', source.ref, 'spec.peerASN', `not 1 to ${MAX_ASN}; ${leftOut}`);
      return undefined;
    }
    if (dynamicASN !== undefined)
      notes.add(
        'InvalidValue',
        source.ref,
        'spec.dynamicASN',
        'set together with peerASN (MetalLB refuses this); peerASN is used',
      );
    remote = { peerASN };
  } else if (dynamicASN === 'internal' || dynamicASN === 'external') {
    remote = { dynamicASN }; // the same meaning: internal accepts only our own ASN, external any other
  } else {
    notes.add(
      'InvalidValue',
      source.ref,
      'spec.peerASN',
      `missing, and dynamicASN is ${dynamicASN === undefined ? 'not set' : JSON.stringify(dynamicASN)}; ${leftOut}`,
    );
    return undefined;
  }

  const address = strs('peerAddress', leftOut);
  const iface = strs('interface', 'ignored');
  // MetalLB's interface means unnumbered BGP (peerAddress empty): FRR's `neighbor IF interface`, which Beacon LB
  // does the same way (ADR 0035). MetalLB refuses both together; a name Beacon LB's schema refuses is left out.
  const unnumbered = address === undefined && iface !== undefined;
  if (unnumbered && !/^[^/%\s]{1,64}$/.test(iface)) {
    notes.notA(source.ref, 'spec.interface', iface, 'an interface name', leftOut);
    return undefined;
  }
  if (address === undefined && !unnumbered) {
    if (absent(source.spec['peerAddress']) || source.spec['peerAddress'] === '')
      notes.add('InvalidValue', source.ref, 'spec.peerAddress', `missing; ${leftOut}`);
    return undefined;
  }
  let family: 4 | 6 = 6;
  if (address !== undefined) {
    const peerIp = parseIp(address);
    if (!peerIp.ok) {
      notes.add('InvalidValue', source.ref, 'spec.peerAddress', `${peerIp.error}; ${leftOut}`);
      return undefined;
    }
    family = familyOf(peerIp.value);
  }
  const nodeSelectors = field(source, 'nodeSelectors', readSelectorList, notes, leftOut);
  if (!nodeSelectors) return undefined;

  const spec: BGPPeer['spec'] =
    address === undefined
      ? { myASN: sessionASN, ...remote, interface: iface ?? '' }
      : { myASN: sessionASN, ...remote, peerAddress: address };
  if (unnumbered)
    notes.add(
      'UnnumberedPeer',
      source.ref,
      'spec.interface',
      `unnumbered BGP over ${iface}: each node finds the router on that interface by its IPv6 Router Advertisements ` +
        'and sends its own (router lifetime 0) so that the router learns the node, as FRR does for neighbor IF ' +
        'interface (other routers must send RAs there); the session runs between the link-local addresses',
    );
  const port = field(source, 'peerPort', readInteger, notes, 'left out (179)')?.value;
  if (port !== undefined && port !== 0) {
    if (port >= 1 && port <= 65535) spec.peerPort = port;
    else notes.add('InvalidValue', source.ref, 'spec.peerPort', `${port} is not a TCP port; left out (179)`);
  }
  const sourceAddress = strs('sourceAddress', 'left out');
  if (sourceAddress !== undefined && unnumbered) {
    notes.add(
      'InvalidValue',
      source.ref,
      'spec.sourceAddress',
      "an unnumbered peer is reached from the interface's link-local address; left out",
    );
  } else if (sourceAddress !== undefined) {
    const parsed = parseIp(sourceAddress);
    if (parsed.ok && familyOf(parsed.value) === family) spec.sourceAddress = sourceAddress;
    else
      notes.add(
        'InvalidValue',
        source.ref,
        'spec.sourceAddress',
        `${parsed.ok ? 'not of the family of peerAddress' : parsed.error}; left out (the kernel chooses)`,
      );
  }
  translateTimers(source, spec, notes);
  const routerID = strs('routerID', 'left out');
  if (routerID !== undefined) {
    const parsed = parseIp(routerID);
    if (parsed.ok && familyOf(parsed.value) === 4) spec.routerID = routerID;
    else
      notes.add(
        'InvalidValue',
        source.ref,
        'spec.routerID',
        'is not an IPv4 address; left out (the node IPv4 address is used)',
      );
  }
  const nodeSelector = narrowedUnion(
    nodeSelectors.value,
    source,
    'spec.nodeSelectors',
    'nodes matching only the others do not peer with this router',
    notes,
  );
  if (nodeSelector) spec.nodeSelector = nodeSelector;

  let secret: SecretManifest | undefined;
  const password = field(source, 'password', readString, notes, 'left out')?.value;
  const secretRef = source.spec['passwordSecret'];
  const secretName =
    isRecord(secretRef) && typeof secretRef['name'] === 'string' && secretRef['name'] !== ''
      ? secretRef['name']
      : undefined;
  if (!absent(secretRef) && secretName === undefined && !(isRecord(secretRef) && Object.keys(secretRef).length === 0)) {
    notes.add('InvalidValue', source.ref, 'spec.passwordSecret', 'has no name; left out');
  }
  if (secretName !== undefined) {
    if (password)
      notes.add(
        'InvalidValue',
        source.ref,
        'spec.password',
        'set together with passwordSecret (MetalLB refuses this); the Secret is used, the password is not copied',
      );
    if (OBJECT_NAME.test(secretName)) {
      spec.passwordSecretRef = { name: secretName, key: 'password' };
      const from =
        isRecord(secretRef) && typeof secretRef['namespace'] === 'string' && secretRef['namespace'] !== ''
          ? secretRef['namespace']
          : (source.namespace ?? 'metallb-system');
      notes.add(
        'PasswordSecretToCopy',
        source.ref,
        'spec.passwordSecret',
        `Beacon LB reads the password from Secret ${secretNamespace}/${secretName} (key password); copy Secret ${from}/${secretName} there ` +
          'before applying, or the session fails authentication',
      );
    } else notes.add('InvalidValue', source.ref, 'spec.passwordSecret.name', 'is not an object name; left out');
  } else if (password) {
    const name = `${source.name}-bgp-password`.slice(0, 253).replace(/[-.]+$/, '');
    spec.passwordSecretRef = { name, key: 'password' };
    secret = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name,
        namespace: secretNamespace,
        annotations: { [MIGRATED_FROM_ANNOTATION]: `${originOf(source)} spec.password` },
      },
      type: 'Opaque',
      stringData: { password: PASSWORD_PLACEHOLDER },
    };
    notes.add(
      'PasswordPlaceholder',
      source.ref,
      'spec.password',
      `Beacon LB takes the TCP MD5 password from a Secret only; the password was not copied (it is never printed). The output ` +
        `has Secret ${secretNamespace}/${name} with the placeholder ${PASSWORD_PLACEHOLDER}: put the password there before the session can come up`,
    );
  }

  if (bools('enableGracefulRestart') === true) spec.gracefulRestart = { enabled: true };
  if (bools('ebgpMultiHop') === true) spec.ebgpMultiHop = true;
  const profileName = strs('bfdProfile', 'left out');
  if (profileName !== undefined) {
    const profile = bfdProfiles.get(profileName);
    if (profile === undefined) {
      notes.add(
        'BFDProfileMissing',
        source.ref,
        'spec.bfdProfile',
        `no BFDProfile ${profileName} among the input; the peer runs without BFD`,
      );
    } else if (unnumbered) {
      notes.add(
        'BFDUnnumberedUnsupported',
        source.ref,
        'spec.bfdProfile',
        `Beacon LB runs BFD only with a router's global address, not over unnumbered BGP: profile ${profileName} left out, a dead router is noticed after the hold time`,
      );
    } else if (spec.ebgpMultiHop === true) {
      notes.add(
        'BFDMultiHopUnsupported',
        source.ref,
        'spec.bfdProfile',
        `Beacon LB's BFD is single hop (RFC 5881) and this peer is ebgpMultiHop: profile ${profileName} left out, a dead router is noticed after the hold time`,
      );
    } else {
      spec.bfd = { ...profile };
      notes.add(
        'BFDProfileInlined',
        source.ref,
        'spec.bfdProfile',
        `BFDProfile ${profileName} copied into spec.bfd (Beacon LB has no profile object: a later change is made on each peer)`,
      );
    }
  }
  const vrf = strs('vrf', 'left out');
  if (vrf !== undefined) {
    notes.add(
      'VRFUnsupported',
      source.ref,
      'spec.vrf',
      `Beacon LB opens sessions in the node's default VRF, not in ${vrf}; the peer is translated without it and may be unreachable`,
    );
  }
  bools('disableMP'); // Deprecated; false and true both mean one family per session unless dualStackAddressFamily.
  // MetalLB negotiates only the family of the session unless dualStackAddressFamily; Beacon LB's default adds the
  // node's other family, so the families are written out.
  spec.addressFamilies =
    bools('dualStackAddressFamily') === true
      ? ['ipv4-unicast', 'ipv6-unicast']
      : [family === 4 ? 'ipv4-unicast' : 'ipv6-unicast'];
  return { peer: { apiVersion: 'beaconlb.io/v1alpha1', kind: 'BGPPeer', metadata: metadataFor(source), spec }, secret };
}

/** holdTime and keepaliveTime as MetalLB's parseTimers settles them and FRR applies them (whole seconds). */
function translateTimers(source: Source, spec: BGPPeer['spec'], notes: Notes): void {
  const hold = seconds(source, 'holdTime', notes);
  const keepalive = seconds(source, 'keepaliveTime', notes);
  const connect = seconds(source, 'connectTime', notes);
  if (connect) {
    if (connect.seconds >= 1 && connect.seconds <= 65535) {
      spec.connectTime = `${connect.seconds}s`;
      if (connect.rounded)
        notes.add('TimersAdjusted', source.ref, 'spec.connectTime', `rounded down to ${connect.seconds}s, as FRR did`);
    } else notes.add('InvalidValue', source.ref, 'spec.connectTime', 'is not 1s to 65535s; left out (10s)');
  }
  if (!hold && !keepalive) {
    if (absent(source.spec['holdTime']) && absent(source.spec['keepaliveTime'])) {
      notes.add(
        'TimerDefaults',
        source.ref,
        'spec.holdTime',
        'not set: MetalLB left the timers to FRR (180s hold, 60s keepalive with the defaults it ships) or to its native ' +
          'speaker (90s hold); Beacon LB proposes 90s with keepalives every 30s. Set holdTime to keep the old value',
      );
    }
    return;
  }
  const holdSeconds = hold ? hold.seconds : (keepalive?.seconds ?? 0) * 3;
  if (holdSeconds !== 0 && (holdSeconds < 3 || holdSeconds > 65535)) {
    notes.add(
      'InvalidValue',
      source.ref,
      'spec.holdTime',
      `${holdSeconds}s is not 0 or 3s to 65535s; holdTime and keepaliveTime left out (90s)`,
    );
    return;
  }
  spec.holdTime = `${holdSeconds}s`;
  if (hold?.rounded || keepalive?.rounded)
    notes.add(
      'TimersAdjusted',
      source.ref,
      hold?.rounded ? 'spec.holdTime' : 'spec.keepaliveTime',
      'rounded down to whole seconds, as FRR did',
    );
  if (!keepalive) return;
  if (holdSeconds !== 0 && keepalive.seconds > holdSeconds) {
    notes.add(
      'InvalidValue',
      source.ref,
      'spec.keepaliveTime',
      'is longer than holdTime (MetalLB refuses this); left out (a third of the hold time)',
    );
  } else if (holdSeconds !== 0 && keepalive.seconds === holdSeconds) {
    notes.add(
      'TimersAdjusted',
      source.ref,
      'spec.keepaliveTime',
      `equals holdTime, which Beacon LB refuses; left out, keepalives go every third of the hold time (${Math.floor(holdSeconds / 3)}s)`,
    );
  } else spec.keepaliveTime = `${keepalive.seconds}s`;
}
