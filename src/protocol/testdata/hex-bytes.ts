// Hex text to bytes and back, for golden frames in tests. Whitespace is ignored so that goldens can be laid out one
// field per group.

/** The bytes of hex text, whitespace ignored; throws on odd length or a non-hex character (a bug in a test). */
export function fromHex(text: string): Uint8Array {
  const digits = text.replace(/\s+/g, '');
  if (digits.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(digits))
    throw new Error(`not hex bytes: ${JSON.stringify(text)}`);
  const bytes = new Uint8Array(digits.length / 2);
  for (let index = 0; index < bytes.length; index++)
    bytes[index] = Number.parseInt(digits.slice(index * 2, index * 2 + 2), 16);
  return bytes;
}

/** Lowercase hex of bytes, no separators. */
export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
}

/** The frame at `index` of a list of captured hex frames; throws when there is none (a bug in a test). */
export function captured(frames: readonly string[], index: number): Uint8Array {
  const hex = frames[index];
  if (hex === undefined) throw new Error(`no captured frame ${index} (the list has ${frames.length})`);
  return fromHex(hex);
}

/** The same bytes at byteOffset 3 of a larger buffer, to catch a DataView that ignores byteOffset. */
export function atOffset(bytes: Uint8Array): Uint8Array {
  const buffer = new Uint8Array(bytes.length + 7).fill(0xee);
  buffer.set(bytes, 3);
  return buffer.subarray(3, 3 + bytes.length);
}
