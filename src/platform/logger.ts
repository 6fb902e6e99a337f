// Structured logs (pino, JSON lines) with child loggers per component; secrets are redacted by key.
import { pino, type Logger } from 'pino';

export type { Logger };

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export function isLogLevel(value: string): value is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(value);
}

/** Keys whose values never reach a log line, wherever they appear one or two levels deep. */
export const REDACTED_KEYS = ['password', 'token', 'secret', 'authorization'];

export function createLogger(options: {
  level: LogLevel;
  component: string;
  destination?: pino.DestinationStream;
}): Logger {
  const paths = REDACTED_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]);
  const base = {
    level: options.level,
    redact: { paths, censor: '[redacted]' },
    base: { component: options.component },
  };
  return options.destination ? pino(base, options.destination) : pino(base);
}
