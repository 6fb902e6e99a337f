// A logger for tests.
import { createLogger, type Logger } from '../platform/logger.ts';

/** A pino logger that writes nothing. */
export function silentLogger(): Logger {
  return createLogger({ level: 'silent', component: 'test' });
}
