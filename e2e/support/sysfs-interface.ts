// An interface's index and MAC address read from sysfs of the current network namespace: what the test and
// bench children need to open a PacketSocket (the speaker learns its interfaces through netlink).
import { readFileSync } from 'node:fs';
import { err, ok, type Result } from '../../src/core/result.ts';
import { macBytes, parseMac } from '../../src/protocol/ethernet/mac-address.ts';
import { fromThrown, type PacketSocketError } from '../../src/platform/native-addon.ts';

const INTERFACE_NAME = /^[^/\s\0]{1,15}$/;

function readInterfaceAttribute(name: string, attribute: string): Result<string, PacketSocketError> {
  if (!INTERFACE_NAME.test(name) || name === '.' || name === '..') {
    return err({ reason: 'invalid-argument', message: `not an interface name: ${JSON.stringify(name)}` });
  }
  try {
    return ok(readFileSync(`/sys/class/net/${name}/${attribute}`, 'utf8').trim());
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (code === 'ENOENT') return err({ reason: 'no-such-device', message: `no interface ${name}`, code });
    return err(fromThrown(e, `reading /sys/class/net/${name}/${attribute}`));
  }
}

/** The interface's index (/sys/class/net/NAME/ifindex). */
export function interfaceIndex(name: string): Result<number, PacketSocketError> {
  const text = readInterfaceAttribute(name, 'ifindex');
  if (!text.ok) return text;
  const index = Number(text.value);
  return Number.isInteger(index) && index > 0
    ? ok(index)
    : err({ reason: 'system', message: `unexpected ifindex for ${name}: ${text.value}` });
}

/** The interface's MAC address, 6 bytes (/sys/class/net/NAME/address). */
export function interfaceMac(name: string): Result<Uint8Array, PacketSocketError> {
  const text = readInterfaceAttribute(name, 'address');
  if (!text.ok) return text;
  const mac = parseMac(text.value);
  return mac.ok
    ? ok(macBytes(mac.value))
    : err({ reason: 'system', message: `${name} has no Ethernet address (${text.value})` });
}
