import { connect } from 'node:http2';

import { readFileSync } from 'node:fs';

/**
 * An attacker in a process of its own (so that what its loop costs its own event loop is not
 * charged to the test's caller or its /healthz probe), attacking until its stdin closes; then
 * it prints how many rounds it made and how each request ended, as JSON counts.
 *
 * node attacker.js grpc PORT: rounds of 8 connections of 40 streams with no token, each
 *   announcing a 16 MiB SyncDirectory and sending up to 15 MiB of it ('16' for
 *   UNAUTHENTICATED, 'reset N' when the server reset it with HTTP/2 code N, 'none' when
 *   nothing came within 10 s).
 * node attacker.js sign-in BASE TOKEN: sign-ins with the token, one after the other (HTTP status),
 *   until stdin closes and at least one was refused (429): a flood outlasts the allowance of
 *   sign-ins a minute, however few the test's call left time for (at most 200 after stdin closes).
 * node attacker.js test-audio BASE STORE COOKIE CSRF WAV: the recording posted as a test, one after the other, at most 20 a second (HTTP status).
 */

async function round(port: number): Promise<string[]> {
  const statuses: Promise<string>[] = [];
  const sessions = Array.from({ length: 8 }, () => connect(`http://127.0.0.1:${port}`));
  for (const session of sessions) {
    session.on('error', () => undefined);
    for (let i = 0; i < 40; i++) {
      const stream = session.request({
        ':method': 'POST',
        ':path': '/attendant.v1.DirectoryService/SyncDirectory',
        'content-type': 'application/grpc',
        te: 'trailers',
      });
      stream.on('error', () => undefined);
      const header = Buffer.alloc(5);
      header.writeUInt32BE(16 * 1024 * 1024, 1);
      stream.write(header);
      const chunk = Buffer.alloc(1024 * 1024);
      let sent = 0;
      const more = (): void => {
        while (sent < 15 && !stream.closed && stream.write(chunk)) sent += 1;
      };
      stream.on('drain', more);
      more();
      statuses.push(
        new Promise<string>((resolve) => {
          const timer = setTimeout(() => resolve('none'), 10_000);
          const done = (h: Record<string, unknown>): void => {
            if (h['grpc-status'] === undefined) return;
            clearTimeout(timer);
            resolve(String(h['grpc-status']));
          };
          stream.on('response', done);
          stream.on('trailers', done);
          stream.on('close', () => (clearTimeout(timer), resolve(`reset ${stream.rstCode ?? ''}`)));
        }),
      );
    }
  }
  const all = await Promise.all(statuses);
  for (const session of sessions) session.destroy();
  return all;
}

async function status(r: Promise<Response>): Promise<string[]> {
  const res = await r;
  await res.text();
  return [String(res.status)];
}

async function main(): Promise<void> {
  const [mode, ...args] = process.argv.slice(2);
  const recording = mode === 'test-audio' ? new Uint8Array(readFileSync(args[4])) : undefined;
  const attacks: Record<string, () => Promise<string[]>> = {
    grpc: () => round(Number(args[0])),
    'sign-in': () =>
      status(
        fetch(`${args[0]}/api/session`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ token: args[1] }),
        }),
      ),
    // Paced at 20 a second (a script at the console, not a flood of connections that
    // saturates this 2-core machine, which is a front proxy's to limit): each a 29-s recording.
    'test-audio': async () => {
      const paced = new Promise((r) => setTimeout(r, 50));
      const got = await status(
        fetch(`${args[0]}/api/stores/${args[1]}/test-audio`, {
          method: 'POST',
          headers: { cookie: args[2], 'x-csrf-token': args[3], 'content-type': 'audio/wav' },
          body: recording,
        }),
      );
      await paced;
      return got;
    },
  };
  const attack = attacks[mode];
  if (attack === undefined) throw new Error(`no attack "${mode}"`);
  let stop = false;
  process.stdin.on('end', () => (stop = true)).resume();
  const counts: Record<string, number> = {};
  let rounds = 0;
  let after = 0;
  const throttled = (): boolean => mode !== 'sign-in' || counts['429'] !== undefined || after >= 200;
  while (!stop || !throttled()) {
    for (const s of await attack()) counts[s] = (counts[s] ?? 0) + 1;
    rounds += 1;
    if (stop) after += 1;
  }
  process.stdout.write(JSON.stringify({ rounds, counts }));
}

void main();
