import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './free-port';

/**
 * A PostgreSQL cluster of its own for a test: initdb in a temporary folder, pg_ctl on a
 * loopback port, removed at the end. Debian's postgresql-15 (scripts/setup.sh installs it).
 * PostgreSQL refuses to run as root: under root it runs as the "postgres" user.
 */

function binDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions.length > 0) return join(root, versions[0], 'bin');
  }
  const found = spawnSync('sh', ['-c', 'command -v initdb'], { encoding: 'utf8' }).stdout.trim();
  return found === '' ? undefined : join(found, '..');
}

export class PgCluster {
  private constructor(
    private readonly bin: string,
    readonly dir: string,
    readonly port: number,
    private readonly asUser: string | undefined,
  ) {}

  /** A running cluster, or undefined (with the reason printed) when PostgreSQL is not installed. */
  static async start(): Promise<PgCluster | undefined> {
    const bin = binDir();
    if (bin === undefined) {
      console.log('PostgreSQL tests skipped: initdb not found (apt-get install postgresql-15; scripts/setup.sh does)');
      return undefined;
    }
    const root = userInfo().uid === 0;
    const dir = mkdtempSync(join(tmpdir(), 'attendant-pg-'));
    const asUser = root ? 'postgres' : undefined;
    if (root) {
      const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
      const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
      chmodSync(dir, 0o700);
      chownSync(dir, uid, gid);
    }
    const cluster = new PgCluster(bin, dir, await freePort(), asUser);
    cluster.run('initdb', ['-D', join(dir, 'data'), '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C.UTF-8', '--no-sync']);
    await cluster.up();
    return cluster;
  }

  private run(tool: string, args: string[]): string {
    const command = join(this.bin, tool);
    const [file, argv] = this.asUser === undefined ? [command, args] : ['runuser', ['-u', this.asUser, '--', command, ...args]];
    const r = spawnSync(file, argv, { encoding: 'utf8', cwd: this.dir });
    if (r.status !== 0) throw new Error(`${tool} failed: ${r.stderr || r.stdout}`);
    return r.stdout;
  }

  /** Starts the server (again), and waits until it takes connections. */
  async up(): Promise<void> {
    const options = `-c listen_addresses=127.0.0.1 -c port=${this.port} -c unix_socket_directories='${this.dir}' -c fsync=off -c max_connections=200`;
    this.run('pg_ctl', ['-D', join(this.dir, 'data'), '-l', join(this.dir, 'log'), '-o', options, '-w', '-t', '60', 'start']);
  }

  /** Stops the server; `immediate`: as a crash would (clients see their connection reset). */
  down(immediate = false): void {
    this.run('pg_ctl', ['-D', join(this.dir, 'data'), '-m', immediate ? 'immediate' : 'fast', '-w', 'stop']);
  }

  url(database = 'postgres'): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  /** A new empty database; its URL. */
  async createDatabase(name: string): Promise<string> {
    const client = new pg.Client({ connectionString: this.url() });
    await client.connect();
    try {
      await client.query(`CREATE DATABASE "${name}"`);
    } finally {
      await client.end();
    }
    return this.url(name);
  }

  stop(): void {
    try {
      this.down(true);
    } catch {
      // already stopped
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
