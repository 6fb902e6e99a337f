// For bench/package-ip-address.ts, in a fresh process: the RSS growth (after GC) from loading one IP address
// implementation and parsing 50,000 addresses (25,000 IPv4, 25,000 IPv6) into bigints that are kept, as the
// allocator keeps them. Nothing is imported statically, so the baseline holds neither implementation.
// Usage: node --expose-gc bench/support/ip-parse-rss.ts ours|ip-address   (prints {"kept":N,"rss_delta_mb":X})
const IPV4_MAPPED_BASE = 0xffff00000000n;
const which = process.argv[2];
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');
if (which !== 'ours' && which !== 'ip-address') throw new Error('usage: ip-parse-rss.ts ours|ip-address');

/** The i-th pair of Service address texts. */
function texts(i: number): [string, string] {
  return [
    `${i % 2 ? 198 : 203}.${i % 2 ? 51 : 0}.${i % 2 ? 100 : 113}.${i % 256}`,
    `2001:db8:${(i % 64).toString(16)}::${i.toString(16)}`,
  ];
}

gc();
const before = process.memoryUsage().rss;
const kept: bigint[] = [];
if (which === 'ours') {
  const { parseIp } = await import('../../src/core/ip/ip-address.ts');
  for (let i = 0; i < 25_000; i++) {
    for (const text of texts(i)) {
      const r = parseIp(text);
      if (r.ok) kept.push(r.value);
    }
  }
} else {
  const { Address4, Address6 } = await import('ip-address');
  for (let i = 0; i < 25_000; i++) {
    const [v4, v6] = texts(i);
    kept.push(IPV4_MAPPED_BASE + new Address4(v4).bigInt(), new Address6(v6).bigInt());
  }
}
gc();
const after = process.memoryUsage().rss;
process.stdout.write(
  JSON.stringify({ kept: kept.length, rss_delta_mb: Math.round(((after - before) / 2 ** 20) * 10) / 10 }),
);
