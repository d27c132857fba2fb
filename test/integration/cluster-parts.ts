import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from './free-port';

/**
 * The parts of a two-site deployment on one machine, for the cluster test and the cluster
 * benchmark: attendant nodes (`attendant serve`, as in production) and Kamailio with the
 * shipped deploy/kamailio configuration in front of them.
 */

const root = join(__dirname, '..', '..', '..');

export const hasKamailio = (): boolean => spawnSync('sh', ['-c', 'command -v kamailio']).status === 0;

export interface ClusterNode {
  name: string;
  sipPort: number;
  httpPort: number;
  grpcPort: number;
  dir: string;
  child?: ChildProcess;
  log: string;
  exited?: Promise<number | null>;
}

/** Ports handed out to nodes: a port is free when chosen, and must not go to two nodes. */
const given = new Set<number>();

async function nodePort(): Promise<number> {
  for (;;) {
    const port = await freePort();
    if (!given.has(port)) {
      given.add(port);
      return port;
    }
  }
}

export async function newNode(name: string, work: string): Promise<ClusterNode> {
  return { name, sipPort: await nodePort(), httpPort: await nodePort(), grpcPort: await nodePort(), dir: join(work, name), log: '' };
}

/** Starts `attendant serve` for a node on loopback, and waits until /readyz says 200. */
export async function startNode(node: ClusterNode, env: NodeJS.ProcessEnv, settings: Record<string, string> = {}): Promise<void> {
  node.log = '';
  const child = spawn(process.execPath, [join(root, 'bin', 'attendant.js'), 'serve'], {
    env: {
      ...env,
      ATTENDANT_DATA_DIR: node.dir,
      ATTENDANT_SIP_HOST: '127.0.0.1',
      ATTENDANT_SIP_PORT: String(node.sipPort),
      ATTENDANT_HTTP_PORT: String(node.httpPort),
      ATTENDANT_GRPC_PORT: String(node.grpcPort),
      ...settings,
    },
  });
  node.child = child;
  node.exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  child.stdout?.on('data', (d: Buffer) => (node.log += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (node.log += d.toString()));
  const until = Date.now() + 90_000;
  for (;;) {
    if (
      await fetch(`http://127.0.0.1:${node.httpPort}/readyz`).then(
        (r) => r.status === 200,
        () => false,
      )
    )
      return;
    if (Date.now() > until || child.exitCode !== null) throw new Error(`node ${node.name} did not become ready:\n${node.log.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export interface Kamailio {
  child: ChildProcess;
  port: number;
  /** Everything Kamailio logged so far. */
  log(): string;
  /** INVITEs for `store` Kamailio sent to `node`, counted in its log from offset `from`. */
  routedTo(node: ClusterNode, from?: number, store?: string): number;
  stop(): Promise<void>;
}

/**
 * Kamailio with deploy/kamailio/kamailio.cfg, dispatching to `nodes`, on a loopback port;
 * resolves once its OPTIONS pings (every 2 s) have found the nodes.
 */
export async function startKamailio(work: string, nodes: ClusterNode[]): Promise<Kamailio> {
  const port = await freePort();
  const list = join(work, `dispatcher-${port}.list`);
  writeFileSync(list, nodes.map((n) => `1 sip:127.0.0.1:${n.sipPort}\n`).join(''));
  let log = '';
  const child = spawn('kamailio', [
    '-f',
    join(root, 'deploy', 'kamailio', 'kamailio.cfg'),
    '-DD',
    '-E',
    '-m',
    '64',
    '-M',
    '8',
    '-n',
    '2',
    '-A',
    `LISTEN=udp:127.0.0.1:${port}`,
    '-A',
    `DISPATCHER_LIST="${list}"`,
    '-Y',
    work,
    '-P',
    join(work, `kamailio-${port}.pid`),
    '-w',
    work,
  ]);
  child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  child.stdout?.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  await new Promise((r) => setTimeout(r, 5000));
  if (child.exitCode !== null) throw new Error(`kamailio exited:\n${log.slice(-3000)}`);
  return {
    child,
    port,
    log: () => log,
    routedTo: (node, from = 0, store = 'demo') =>
      [...log.slice(from).matchAll(new RegExp(`INVITE \\S+ for ${store} routed to sip:127\\.0\\.0\\.1:${node.sipPort}\\b`, 'g'))].length,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** A sipp scenario whose in-dialog requests follow the Record-Route set (through Kamailio). */
export const routed = (xml: string): string => xml.replace(/(\[next_url\] SIP\/2\.0\n[\s\S]*?Max-Forwards: 70\n)/g, '$1[routes]\n');
