// The lab's stand-in for a Pod's web server: socat in a node namespace answering every connection on a port with one
// plain-text HTTP response that names what served it ("hello from node2", "blue from node1").
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startProcess, type ManagedProcess } from './managed-process.ts';
import type { Run } from './run-registry.ts';

export interface HttpBackendOptions {
  /** Names the script and the log file in `dir`. */
  readonly name: string;
  readonly ns: string;
  readonly port: number;
  /** The response body, one line. */
  readonly text: string;
  readonly dir: string;
  readonly run?: Run;
}

/**
 * The script socat runs per connection. It reads the request up to its blank line before answering: a script that
 * answers and exits at once races socat, which then writes the request into a closed pipe, fails with EPIPE and may
 * end before it has copied the answer to the client (curl: "Empty reply from server", exit 52).
 */
export function backendScript(text: string): string {
  if (!/^[\w .:-]+$/.test(text)) throw new Error(`backend text ${JSON.stringify(text)}: letters, digits, " .:-" only`);
  const body = `${text}\n`;
  return [
    '#!/bin/sh',
    "cr=$(printf '\\r')",
    'while IFS= read -r line; do',
    '  [ -z "$line" ] || [ "$line" = "$cr" ] && break',
    'done',
    `printf 'HTTP/1.0 200 OK\\r\\nContent-Type: text/plain\\r\\nContent-Length: ${Buffer.byteLength(body)}\\r\\n\\r\\n%s\\n' '${text}'`,
    '',
  ].join('\n');
}

/** Starts the backend (IPv4 and IPv6, every address of the namespace); stop it with the returned process's stop(). */
export function startHttpBackend(options: HttpBackendOptions): ManagedProcess {
  const script = join(options.dir, `${options.name}.sh`);
  writeFileSync(script, backendScript(options.text), { mode: 0o755 });
  const backend = startProcess({
    name: options.name,
    command: 'socat',
    args: [`TCP6-LISTEN:${options.port},ipv6only=0,fork,reuseaddr`, `EXEC:${script}`],
    netns: options.ns,
    logFile: join(options.dir, `${options.name}.log`),
  });
  options.run?.recordProcess(backend.pid);
  return backend;
}
