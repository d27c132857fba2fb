import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DirectoryStore } from '../../src/directory/directory-store';

const store = join(__dirname, '..', '..', 'src', 'directory', 'directory-store.js');

/** A child process that syncs large directories in a loop, each a whole new version. */
const writer = `
const { DirectoryStore } = require(${JSON.stringify(store)});
const s = DirectoryStore.open(process.argv[1]);
for (let round = 1; ; round += 1) {
  const entries = Array.from({ length: 20000 }, (_, i) => ({
    id: 'e' + i, type: 'person', firstName: 'F' + i, lastName: 'Round' + round, serviceName: '',
    department: '', extension: String(1000 + i), aliases: [], enabled: true,
  }));
  s.replaceDirectory('big', entries, { via: 'test', actor: 'writer' });
  process.stdout.write('synced ' + round + '\\n');
}
`;

describe('a crash in the middle of a large sync', () => {
  it('leaves the store on a whole version, never a mix', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'attendant-crash-'));
    try {
      const setup = DirectoryStore.open(dir);
      setup.createStore('big');
      setup.close();
      const child = spawn(process.execPath, ['-e', writer, dir]);
      let synced = 0;
      await new Promise<void>((resolve) => {
        child.stdout.on('data', (d: Buffer) => {
          synced = Number(/synced (\d+)\s*$/.exec(d.toString())?.[1] ?? synced);
          // Kill it while the next sync is being written.
          if (synced >= 2) {
            setTimeout(() => child.kill('SIGKILL'), 15);
            resolve();
          }
        });
      });
      await new Promise((resolve) => child.on('exit', resolve));
      const after = DirectoryStore.open(dir);
      const snapshot = after.snapshot('big');
      after.close();
      expect(snapshot.version).toBeGreaterThanOrEqual(2);
      expect(snapshot.entries).toHaveLength(20000);
      const rounds = new Set(snapshot.entries.map((e) => e.lastName));
      expect(rounds).toEqual(new Set([`Round${snapshot.version}`]));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
