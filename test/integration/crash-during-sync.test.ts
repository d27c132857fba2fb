import * as grpc from '@grpc/grpc-js';
import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port';
import { loadProtos } from '../../src/api/grpc';
import { Storage } from '../../src/cli/storage';

const root = join(__dirname, '..', '..', '..');

// Few distinct words: the server builds this store's recognition grammar at start.
const FIRST = ['Paul', 'Sophie', 'Jean', 'Claire', 'Nadia', 'Karim'];
const bigDirectory = (round: number) =>
  Array.from({ length: 40000 }, (_, i) => ({
    id: `e${i}`,
    type: 'person',
    first_name: FIRST[i % FIRST.length],
    last_name: `Round${round}`,
    extension: String(10000 + i),
    aliases: [],
  }));

describe('the server killed in the middle of a large sync', () => {
  let child: ChildProcess | undefined;
  afterAll(() => child?.kill('SIGKILL'));

  it('leaves the store on the old or the new version, never a mix', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'attendant-crash-'));
    try {
      const setup = await Storage.open({ dataDir: dir });
      await setup.directory.createStore('big');
      await setup.directory.replaceDirectory(
        'big',
        bigDirectory(1).map((e) => ({
          id: e.id,
          type: 'person' as const,
          firstName: e.first_name,
          lastName: e.last_name,
          serviceName: '',
          department: '',
          extension: e.extension,
          aliases: [],
          enabled: true,
        })),
        { via: 'test', actor: 'setup' },
      );
      const { token } = await setup.tokens.create('big');
      await setup.close();

      const [httpPort, grpcPort, sipPort] = [await freePort(), await freePort(), await freePort()];
      child = spawn(process.execPath, [join(root, 'bin', 'attendant.js'), 'serve'], {
        env: {
          ...process.env,
          ATTENDANT_DATA_DIR: dir,
          ATTENDANT_HTTP_PORT: String(httpPort),
          ATTENDANT_GRPC_PORT: String(grpcPort),
          ATTENDANT_SIP_PORT: String(sipPort),
          ATTENDANT_ASR_WORKERS: '1',
        },
        stdio: 'ignore',
      });
      for (let ready = false; !ready;) {
        ready = await fetch(`http://127.0.0.1:${httpPort}/readyz`).then(
          (r) => r.status === 200,
          () => false,
        );
        if (!ready) await new Promise((r) => setTimeout(r, 200));
      }
      const Service = ((loadProtos().attendant as grpc.GrpcObject).v1 as grpc.GrpcObject).DirectoryService as grpc.ServiceClientConstructor;
      const client = new Service(`127.0.0.1:${grpcPort}`, grpc.credentials.createInsecure(), {
        'grpc.max_send_message_length': 16 * 1024 * 1024,
      });
      const md = new grpc.Metadata();
      md.set('authorization', `Bearer ${token}`);
      const sync = new Promise<unknown>((resolve) =>
        (client as unknown as Record<string, (...a: unknown[]) => void>).SyncDirectory(
          { store: 'big', entries: bigDirectory(2) },
          md,
          (err: unknown, res: unknown) => resolve(err ?? res),
        ),
      );
      // Kill the server while it receives, validates and writes the 40,000 entries.
      await new Promise((r) => setTimeout(r, 150));
      const exited = new Promise((resolve) => child?.on('exit', resolve));
      child.kill('SIGKILL');
      await exited;
      await sync;
      client.close();

      const after = await Storage.open({ dataDir: dir });
      const snapshot = await after.directory.snapshot('big');
      await after.close();
      expect([1, 2]).toContain(snapshot.version);
      expect(snapshot.entries).toHaveLength(40000);
      expect(new Set(snapshot.entries.map((e) => e.lastName))).toEqual(new Set([`Round${snapshot.version}`]));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
