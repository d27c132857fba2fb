import { connect } from 'node:http2';

/**
 * An attacker of the gRPC port with no token, in a process of its own (so that what it costs
 * its own event loop is not charged to the test's caller): rounds of 8 connections of 40
 * streams, each announcing a 16 MiB SyncDirectory and sending up to 15 MiB of it, until its
 * stdin closes; then it prints how each stream ended ('16' for UNAUTHENTICATED, 'reset N' when
 * the server reset it with HTTP/2 code N, 'none' when nothing came within 10 s) as JSON counts.
 *
 * node grpc-flood.js PORT
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

async function main(): Promise<void> {
  const port = Number(process.argv[2]);
  let stop = false;
  process.stdin.on('end', () => (stop = true)).resume();
  const counts: Record<string, number> = {};
  let rounds = 0;
  while (!stop) {
    for (const s of await round(port)) counts[s] = (counts[s] ?? 0) + 1;
    rounds += 1;
  }
  process.stdout.write(JSON.stringify({ rounds, counts }));
}

void main();
