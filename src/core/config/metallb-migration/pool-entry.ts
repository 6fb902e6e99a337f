// An IPAddressPool address entry as Beacon LB's IPPool schema takes it.
import { familyOf, parseIp } from '../../ip/ip-address.ts';
import { formatIpRange, parseIpRange, prefixOf } from '../../ip/ip-range.ts';
import { ok, type Result } from '../../result.ts';

/** A pool entry as Beacon LB's schema accepts it: MetalLB's CIDRs may have host bits set (net.ParseCIDR masks them). */
export function poolEntry(text: string): Result<string> {
  const trimmed = text.trim();
  if (!trimmed.includes('/')) {
    const range = parseIpRange(trimmed);
    if (!range.ok) return range;
    const dash = trimmed.indexOf('-');
    return ok(`${trimmed.slice(0, dash).trim()}-${trimmed.slice(dash + 1).trim()}`);
  }
  const exact = parseIpRange(trimmed);
  if (exact.ok) return ok(trimmed);
  const [addressText = '', lengthText = ''] = trimmed.split('/');
  const address = parseIp(addressText);
  const length = Number(lengthText);
  const family = addressText.includes(':') ? 6 : 4;
  if (
    !address.ok ||
    !/^\d{1,3}$/.test(lengthText) ||
    familyOf(address.value) !== family ||
    length > (family === 4 ? 32 : 128)
  )
    return exact;
  return ok(formatIpRange(prefixOf(address.value, length, family)));
}
