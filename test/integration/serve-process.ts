import { ChildProcess, spawn, SpawnOptions } from 'node:child_process';
import { join } from 'node:path';

const BIN = join(__dirname, '..', '..', '..', 'bin', 'attendant.js');

/** `attendant serve` as a child process, as an operator starts it, with `env` as its whole environment. */
export function spawnServe(env: NodeJS.ProcessEnv, options: Omit<SpawnOptions, 'env'> = {}): ChildProcess {
  return spawn(process.execPath, [BIN, 'serve'], { ...options, env });
}

/**
 * Until the server on `httpPort` answers /readyz with 200; throws with the end of its log
 * (`log()`) when it has not within `ms`.
 */
export async function untilReady(httpPort: number, log: () => string = () => '', ms = 60_000): Promise<void> {
  for (const until = Date.now() + ms; ; await new Promise((r) => setTimeout(r, 250))) {
    const ok = await fetch(`http://127.0.0.1:${httpPort}/readyz`)
      .then((r) => r.status === 200)
      .catch(() => false);
    if (ok) return;
    if (Date.now() > until) throw new Error(`attendant serve did not become ready:\n${log().slice(-3000)}`);
  }
}
