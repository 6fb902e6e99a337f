// MetalLB's community syntax (standard a:b, large:a:b:c).
import { err, ok, type Result } from '../../result.ts';

export type MetalLbCommunity = { kind: 'standard' | 'large'; value: string };

/** A community as MetalLB's community.New reads it: `a:b` (16-bit parts) or `large:a:b:c` (32-bit parts). */
export function parseMetalLbCommunity(text: string): Result<MetalLbCommunity, 'format' | 'value'> {
  const parts = text.split(':');
  const numbers = (fields: string[], max: number): number[] | undefined => {
    const values = fields.map((f) => (/^\d+$/.test(f) ? Number(f) : Number.NaN));
    return values.every((v) => Number.isSafeInteger(v) && v <= max) ? values : undefined;
  };
  if (parts.length === 2) {
    const values = numbers(parts, 0xffff);
    return values ? ok({ kind: 'standard', value: values.join(':') }) : err('value');
  }
  if (parts.length === 4) {
    if (parts[0] !== 'large') return err('value');
    const values = numbers(parts.slice(1), 0xffffffff);
    return values ? ok({ kind: 'large', value: values.join(':') }) : err('value');
  }
  return err('format');
}
