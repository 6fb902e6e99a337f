// The datagram of the speakers' failure detector (ADR 0019): one ProbeMessage (src/core/election/probe-messages.ts)
// with the header a receiver needs to authenticate it and refuse replays, and a 32-byte MAC over everything before
// it (HMAC-SHA256 with the cluster key from the Secret; the MAC function is a parameter, so this file stays pure).
//
//   0      4  5  6      7              15       19       23                   27            31
//   | BLBP | v | kind | key id | incarnation (8) | seq (4) | wall second (4) | generation (4) | held ms (4) |
//   then: epoch, from, to (each a length byte and UTF-8), the kind's body, and the MAC (32).
//   generation / held ms: the sender's newest membership record and how long it has held it (ADR 0019, "Record
//   age"); generation 0: none. Version 1 had neither (23-byte header); it is still decoded, without a report.
//   bodies: ping: seq u32, for (str), confirmed (u8 flag + u32); ack: seq u32, ackSeq u32;
//           ping-req: target (str), seq u32, confirmed (flag + u32); relay: target (str), seq u32, ackSeq u32;
//           down: target (str); fenced, leaving, rejoining: nothing.
//   kind 7 (rejoining, ADR 0036) is new with this version's reader; the header is unchanged, so versions 1 and 2 of
//   every other kind decode as before, and a reader that predates it refuses it as an unknown kind (its speaker then
//   counts the sender settled: the safe side of the rejoining mark).
// Integers are big-endian. Names are at most 253 bytes (a DNS name), the epoch at most 64.
import { ok, type Result } from '../../core/result.ts';
import type { ProbeMessage } from '../../core/election/probe-messages.ts';
import { decodeFailure, type DecodeError } from '../ethernet/decode-error.ts';

export const PROBE_MAGIC = 0x424c4250; // "BLBP"
export const PROBE_VERSION = 2;
export const MAC_LENGTH = 32;
const HEADER_LENGTH_V1 = 23;
const MAX_NAME = 253;
const MAX_EPOCH = 64;

const KINDS = ['ping', 'ack', 'ping-req', 'relay', 'down', 'fenced', 'leaving', 'rejoining'] as const;

/** A cluster key: `id` tells receivers which key signed (current or previous); `mac` computes the 32-byte tag. */
export interface ProbeKey {
  readonly id: number;
  mac(bytes: Uint8Array): Uint8Array;
}

export interface ProbeDatagram {
  /** The sender's process incarnation (random at start): sequences restart with it. */
  readonly incarnation: bigint;
  /** Per incarnation, increasing: receivers drop a sequence they have seen. */
  readonly seq: number;
  /** The sender's wall-clock second (replay window for DOWN after a receiver restarts; never used for liveness). */
  readonly wallSecond: number;
  readonly from: string;
  readonly to: string;
  readonly message: ProbeMessage;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

class Writer {
  readonly bytes: number[] = [];
  u8(v: number): void {
    this.bytes.push(v & 0xff);
  }
  u32(v: number): void {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`${v} is not an unsigned 32-bit integer`);
    this.bytes.push((v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
  }
  str(s: string, max: number): void {
    const b = encoder.encode(s);
    if (b.length > max) throw new RangeError(`"${s.slice(0, 40)}" is longer than ${max} bytes`);
    this.u8(b.length);
    for (const x of b) this.bytes.push(x);
  }
  confirmed(v: number | null): void {
    this.u8(v === null ? 0 : 1);
    this.u32(v ?? 0);
  }
}

/** The datagram's bytes, MAC included; throws RangeError on fields out of range (bugs). */
export function encodeProbeDatagram(d: ProbeDatagram, key: ProbeKey): Uint8Array {
  const w = new Writer();
  w.u32(PROBE_MAGIC);
  w.u8(PROBE_VERSION);
  w.u8(KINDS.indexOf(d.message.kind));
  w.u8(key.id);
  if (d.incarnation < 0n || d.incarnation >= 1n << 64n)
    throw new RangeError('incarnation is not an unsigned 64-bit integer');
  w.u32(Number(d.incarnation >> 32n));
  w.u32(Number(d.incarnation & 0xffffffffn));
  w.u32(d.seq);
  w.u32(d.wallSecond);
  const report = d.message.report;
  w.u32(report?.generation ?? 0);
  w.u32(Math.min(0xffffffff, Math.max(0, Math.floor(report?.heldMs ?? 0))));
  w.str(d.message.epoch, MAX_EPOCH);
  w.str(d.from, MAX_NAME);
  w.str(d.to, MAX_NAME);
  const m = d.message;
  switch (m.kind) {
    case 'ping':
      w.u32(m.seq);
      w.str(m.for, MAX_NAME);
      w.confirmed(m.confirmed);
      break;
    case 'ack':
      w.u32(m.seq);
      w.u32(m.ackSeq);
      break;
    case 'ping-req':
      w.str(m.target, MAX_NAME);
      w.u32(m.seq);
      w.confirmed(m.confirmed);
      break;
    case 'relay':
      w.str(m.target, MAX_NAME);
      w.u32(m.seq);
      w.u32(m.ackSeq);
      break;
    case 'down':
      w.str(m.target, MAX_NAME);
      break;
    case 'fenced':
    case 'leaving':
    case 'rejoining':
      break;
  }
  const body = Uint8Array.from(w.bytes);
  const tag = key.mac(body);
  if (tag.length !== MAC_LENGTH) throw new RangeError(`MAC of ${tag.length} bytes, expected ${MAC_LENGTH}`);
  const out = new Uint8Array(body.length + MAC_LENGTH);
  out.set(body);
  out.set(tag, body.length);
  return out;
}

/** Thrown inside the decoder only, turned into a DecodeError before it returns. */
class Short extends Error {}

class Reader {
  #offset = 0;
  readonly #view: DataView;
  readonly #bytes: Uint8Array;
  readonly #end: number;
  constructor(bytes: Uint8Array, end: number) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#end = end;
  }
  get offset(): number {
    return this.#offset;
  }
  #need(n: number): void {
    if (this.#offset + n > this.#end) throw new Short();
  }
  u8(): number {
    this.#need(1);
    return this.#view.getUint8(this.#offset++);
  }
  u32(): number {
    this.#need(4);
    const v = this.#view.getUint32(this.#offset);
    this.#offset += 4;
    return v;
  }
  str(): string {
    const n = this.u8();
    this.#need(n);
    const s = decoder.decode(this.#bytes.subarray(this.#offset, this.#offset + n));
    this.#offset += n;
    return s;
  }
  confirmed(): number | null {
    const flag = this.u8();
    const v = this.u32();
    if (flag > 1) throw new TypeError('confirmed flag is neither 0 nor 1');
    return flag === 1 ? v : null;
  }
}

/** Constant-time comparison of two tags. */
function sameTag(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}

/** Decodes and authenticates a datagram with one of `keys` (chosen by the key id); never throws. */
export function decodeProbeDatagram(bytes: Uint8Array, keys: readonly ProbeKey[]): Result<ProbeDatagram, DecodeError> {
  if (bytes.length < HEADER_LENGTH_V1 + 3 + MAC_LENGTH)
    return decodeFailure('truncated', `probe: ${bytes.length} bytes, fewer than the smallest datagram`);
  const bodyEnd = bytes.length - MAC_LENGTH;
  const r = new Reader(bytes, bodyEnd);
  try {
    if (r.u32() !== PROBE_MAGIC) return decodeFailure('unsupported', 'probe: not a Beacon LB probe datagram (magic)');
    const version = r.u8();
    if (version !== PROBE_VERSION && version !== 1)
      return decodeFailure('unsupported', `probe: version ${version}, expected 1 or ${PROBE_VERSION}`);
    const kind = KINDS[r.u8()];
    if (kind === undefined) return decodeFailure('malformed', 'probe: unknown message kind');
    const keyId = r.u8();
    const key = keys.find((k) => k.id === keyId);
    if (!key) return decodeFailure('invalid', `probe: signed with key ${keyId}, which this speaker does not hold`);
    if (!sameTag(key.mac(bytes.subarray(0, bodyEnd)), bytes.subarray(bodyEnd)))
      return decodeFailure('invalid', 'probe: authentication failed');
    const incarnation = (BigInt(r.u32()) << 32n) | BigInt(r.u32());
    const seq = r.u32();
    const wallSecond = r.u32();
    const generation = version === 1 ? 0 : r.u32();
    const heldMs = version === 1 ? 0 : r.u32();
    const epoch = r.str();
    const from = r.str();
    const to = r.str();
    let message: ProbeMessage;
    switch (kind) {
      case 'ping': {
        const s = r.u32();
        message = { kind, epoch, seq: s, for: r.str(), confirmed: r.confirmed() };
        break;
      }
      case 'ack':
        message = { kind, epoch, seq: r.u32(), ackSeq: r.u32() };
        break;
      case 'ping-req': {
        const target = r.str();
        const s = r.u32();
        message = { kind, epoch, target, seq: s, confirmed: r.confirmed() };
        break;
      }
      case 'relay': {
        const target = r.str();
        const s = r.u32();
        message = { kind, epoch, target, seq: s, ackSeq: r.u32() };
        break;
      }
      case 'down':
        message = { kind, epoch, target: r.str() };
        break;
      case 'fenced':
      case 'leaving':
      case 'rejoining':
        message = { kind, epoch };
        break;
    }
    if (r.offset !== bodyEnd)
      return decodeFailure('malformed', `probe: ${bodyEnd - r.offset} bytes after the ${kind} body`);
    if (generation > 0) message.report = { generation, heldMs };
    return ok({ incarnation, seq, wallSecond, from, to, message });
  } catch (error) {
    if (error instanceof Short) return decodeFailure('truncated', 'probe: a field runs past the end');
    if (error instanceof TypeError) return decodeFailure('malformed', `probe: ${error.message}`);
    throw error;
  }
}
