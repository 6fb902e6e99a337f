// Typed reading of parsed flag values, with usage errors that name the flag.
import { parseDuration } from '../core/duration.ts';
import { isLogLevel, type LogLevel } from '../platform/logger.ts';
import { UsageError } from './command.ts';

export type Flags = Record<string, string | boolean | undefined>;

export function stringFlag(flags: Flags, name: string): string {
  const value = flags[name];
  if (typeof value !== 'string' || value === '') throw new UsageError(`--${name} is required`);
  return value;
}

export function optionalStringFlag(flags: Flags, name: string): string | undefined {
  const value = flags[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

export function durationFlag(flags: Flags, name: string): number {
  const parsed = parseDuration(stringFlag(flags, name));
  if (!parsed.ok) throw new UsageError(`--${name}: ${parsed.error}`);
  return parsed.value;
}

export function integerFlag(flags: Flags, name: string): number {
  const text = stringFlag(flags, name);
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) throw new UsageError(`--${name}: "${text}" is not a non-negative integer`);
  return value;
}

export function logLevelFlag(flags: Flags): LogLevel {
  const level = stringFlag(flags, 'log-level');
  if (!isLogLevel(level)) throw new UsageError(`--log-level: "${level}" is not one of trace, debug, info, warn, error`);
  return level;
}
