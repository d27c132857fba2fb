import { ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import { freePort } from './free-port';
import { run } from '../../src/cli/main';
import { Storage } from '../../src/cli/storage';
import { ANSWERED, expectReferTo, G711_OFFER, invite, runSipp, scenario } from '../e2e/sipp';

const root = join(__dirname, '..', '..', '..');

async function waitFor(url: string, status: number, ms: number): Promise<string> {
  const until = Date.now() + ms;
  for (;;) {
    try {
      const res = await fetch(url);
      if (res.status === status) return res.text();
    } catch {
      // not listening yet
    }
    if (Date.now() > until) throw new Error(`${url} did not answer ${status} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('attendant serve', () => {
  let dir: string;
  let child: ChildProcess;
  let stderr = '';

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'attendant-serve-'));
  });
  afterAll(() => {
    child?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  const serveOnce = async (env: NodeJS.ProcessEnv): Promise<{ code: number | null; stderr: string; httpPort: number }> => {
    const httpPort = await freePort();
    const p = spawn(process.execPath, [join(root, 'bin', 'attendant.js'), 'serve'], {
      env: {
        ...process.env,
        ATTENDANT_DATA_DIR: mkdtempSync(join(tmpdir(), 'attendant-serve-bad-')),
        ATTENDANT_HTTP_PORT: String(httpPort),
        ATTENDANT_GRPC_PORT: String(await freePort()),
        ATTENDANT_SIP_PORT: String(await freePort()),
        ATTENDANT_ASR_WORKERS: '1',
        ...env,
      },
    });
    let err = '';
    p.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => p.kill('SIGKILL'), 30_000);
    const [code] = (await once(p, 'exit')) as [number | null];
    clearTimeout(timer);
    return { code, stderr: err, httpPort };
  };

  it('stops with exit 3 and one clear line, before opening any port, when the Vosk model is missing', async () => {
    const r = await serveOnce({ ATTENDANT_ASR_ENGINE: 'vosk', ATTENDANT_VOSK_MODEL: join(dir, 'no-such-model') });
    expect(r.code).toBe(3);
    expect(r.stderr.trim().split('\n').pop()).toMatch(
      /^attendant: cannot start: ATTENDANT_ASR_ENGINE=vosk: no Vosk model at .*no-such-model/,
    );
    expect(r.stderr).not.toMatch(/listening/);
  });

  it('stops with exit 3 when a model crashes the engine on a test sound (a Vosk folder of empty files), instead of dying on the first call', async () => {
    const model = join(dir, 'empty-vosk');
    for (const sub of ['am', 'graph', 'conf']) mkdirSync(join(model, sub), { recursive: true });
    for (const f of ['am/final.mdl', 'graph/HCLG.fst', 'conf/mfcc.conf']) writeFileSync(join(model, f), '');
    const r = await serveOnce({ ATTENDANT_ASR_ENGINE: 'vosk', ATTENDANT_VOSK_MODEL: model });
    expect(r.code).toBe(3);
    expect(r.stderr.trim().split('\n').pop()).toMatch(
      /^attendant: cannot start: the Vosk model in .*empty-vosk (crashed the recognition engine \(SIG\w+\)|cannot be used)/,
    );
    expect(r.stderr).not.toMatch(/ready to take calls|listening/);
    await expect(fetch(`http://127.0.0.1:${r.httpPort}/healthz`)).rejects.toThrow();
  });

  it.each([
    ['to the server', false],
    // Ctrl-C on `npm start`, and systemd's default KillMode, signal every process of the group:
    // the recognition workers carry on through the drain and stop with the server (issue 35, 6).
    ['to its whole process group', true],
  ])(
    'on SIGTERM %s answers OPTIONS 503, then sends a call still up to the operator with a REFER and a BYE, records it, and exits 0',
    async (_to, group) => {
      const data = mkdtempSync(join(tmpdir(), 'attendant-drain-'));
      const [httpPort, sipPort] = [await freePort(), await freePort()];
      const p = spawn(process.execPath, [join(root, 'bin', 'attendant.js'), 'serve'], {
        env: {
          ...process.env,
          ATTENDANT_DATA_DIR: data,
          ATTENDANT_HTTP_PORT: String(httpPort),
          ATTENDANT_GRPC_PORT: String(await freePort()),
          ATTENDANT_SIP_PORT: String(sipPort),
          ATTENDANT_ASR_WORKERS: '1',
          ATTENDANT_DRAIN_SECONDS: '1',
          ATTENDANT_RTP_PORTS: '23000-23099',
        },
        detached: group,
      });
      let err = '';
      p.stderr?.on('data', (d: Buffer) => (err += d.toString()));
      try {
        await waitFor(`http://127.0.0.1:${httpPort}/readyz`, 200, 60000);
        // The PBX: a call that listens to the greeting, gets our REFER to the operator (9), then our BYE.
        const call = runSipp(scenario('drained', [invite(G711_OFFER), ...ANSWERED, ...expectReferTo('9')]), {
          target: `127.0.0.1:${sipPort}`,
          service: 'demo',
          localPort: await freePort(),
          mediaPort: 24000,
          timeoutS: 30,
        });
        await new Promise((r) => setTimeout(r, 1500));
        const exited = once(p, 'exit');
        if (group) process.kill(-p.pid!, 'SIGTERM');
        else p.kill('SIGTERM');
        // While draining, a proxy's OPTIONS ping hears 503.
        const options = await runSipp(
          scenario('ping', [
            `<send retrans="500"><![CDATA[\nOPTIONS sip:demo@[remote_ip]:[remote_port] SIP/2.0\nVia: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]\nFrom: <sip:ping@[local_ip]>;tag=[pid]\nTo: <sip:demo@[remote_ip]>\nCall-ID: [call_id]\nCSeq: 1 OPTIONS\nMax-Forwards: 70\nContent-Length: 0\n\n]]></send>`,
            '<recv response="503"/>',
          ]),
          { target: `127.0.0.1:${sipPort}`, service: 'demo', localPort: await freePort(), mediaPort: 24100, timeoutS: 10 },
        );
        expect(options.code).toBe(0);
        const r = await call;
        if (r.code !== 0) throw new Error(`sipp exit ${r.code}\n${r.errors}\n${r.stdout.slice(-1500)}`);
        const [code] = (await exited) as [number | null];
        expect(code).toBe(0);
        const out: string[] = [];
        await run(['calls', 'demo', '--json'], { out: (t) => out.push(t), err: () => undefined }, { ATTENDANT_DATA_DIR: data });
        const record = JSON.parse(out[0]) as { outcome: string; extension: string; path: string[] };
        expect(record).toMatchObject({ outcome: 'operator', extension: '9' });
        expect(record.path[record.path.length - 1]).toBe('shutdown:9');
        expect(err).not.toMatch(/recognition worker (crashed|exited)|worker crashed|a recognition worker exited/);
      } finally {
        p.kill('SIGKILL');
        rmSync(data, { recursive: true, force: true });
      }
    },
    120_000,
  );

  it("starts with a store that cannot be built, takes the other stores' calls, says so in /readyz, and is ready once a good directory is imported", async () => {
    const data = mkdtempSync(join(tmpdir(), 'attendant-unusable-'));
    // A directory written before names of only punctuation were refused (validation is bypassed here, as an older version's data would be).
    const storage = await Storage.open({ dataDir: data });
    await storage.directory.createStore('bad');
    await storage.directory.replaceDirectory(
      'bad',
      [
        {
          id: 'a',
          type: 'person',
          firstName: '',
          lastName: '---',
          serviceName: '',
          department: '',
          extension: '100',
          aliases: [],
          enabled: true,
        },
      ],
      { via: 'test', actor: 'test' },
    );
    await storage.close();
    const io = { out: () => undefined, err: () => undefined };
    expect(await run(['store', 'create', 'good'], io, { ATTENDANT_DATA_DIR: data })).toBe(0);
    expect(
      await run(['directory', 'import', 'good', join(root, 'directory-fixtures', 'demo-store.csv')], io, { ATTENDANT_DATA_DIR: data }),
    ).toBe(0);
    const httpPort = await freePort();
    const p = spawn(process.execPath, [join(root, 'bin', 'attendant.js'), 'serve'], {
      env: {
        ...process.env,
        ATTENDANT_DATA_DIR: data,
        ATTENDANT_HTTP_PORT: String(httpPort),
        ATTENDANT_GRPC_PORT: String(await freePort()),
        ATTENDANT_SIP_PORT: String(await freePort()),
        ATTENDANT_ASR_WORKERS: '1',
        ATTENDANT_HTTP_HOST: '127.0.0.1',
      },
    });
    let err = '';
    p.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    try {
      // 503 "starting", then 503 naming the store once the others are ready.
      let body = '';
      for (
        const until = Date.now() + 60000;
        Date.now() < until && !/cannot take calls/.test(body);
        await new Promise((r) => setTimeout(r, 200))
      ) {
        body = await waitFor(`http://127.0.0.1:${httpPort}/readyz`, 503, 60000);
      }
      expect(body).toBe('store bad cannot take calls: see the log\n');
      await waitFor(`http://127.0.0.1:${httpPort}/healthz`, 200, 5000);
      expect(err).toMatch(/"store":"bad".*store grammar could not be built/);
      expect(err).toMatch(/"store":"good".*store grammar ready/);
      writeFileSync(join(data, 'fixed.csv'), 'id,type,last_name,extension\na,person,Le Goff,100\n');
      expect(await run(['directory', 'import', 'bad', join(data, 'fixed.csv')], io, { ATTENDANT_DATA_DIR: data })).toBe(0);
      expect(await waitFor(`http://127.0.0.1:${httpPort}/readyz`, 200, 20000)).toBe('ready\n');
    } finally {
      p.kill('SIGKILL');
      rmSync(data, { recursive: true, force: true });
    }
  }, 120_000);

  it('loads the demo store when there is none, becomes ready, and stops cleanly on SIGTERM', async () => {
    const port = await freePort();
    const grpcPort = await freePort();
    child = spawn(process.execPath, [join(root, 'bin', 'attendant.js'), 'serve'], {
      env: {
        ...process.env,
        ATTENDANT_DATA_DIR: dir,
        ATTENDANT_HTTP_PORT: String(port),
        ATTENDANT_GRPC_PORT: String(grpcPort),
        ATTENDANT_SIP_PORT: String(await freePort()),
        ATTENDANT_ASR_WORKERS: '1',
        ATTENDANT_METRICS_STORES: 'on',
        ATTENDANT_HTTP_HOST: '127.0.0.1',
        ATTENDANT_GRPC_HOST: '127.0.0.1',
      },
    });
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    expect(await waitFor(`http://127.0.0.1:${port}/healthz`, 200, 20000)).toBe('ok\n');
    expect(await waitFor(`http://127.0.0.1:${port}/readyz`, 200, 20000)).toBe('ready\n');
    expect(await waitFor(`http://127.0.0.1:${port}/metrics`, 200, 5000)).toMatch(/^attendant_stores 1$/m);
    expect(await waitFor(`http://127.0.0.1:${port}/metrics`, 200, 5000)).toMatch(/^attendant_store_directory_version\{store="demo"\} 1$/m);
    // The demo store's grammars, measured when loaded in the worker: some memory, well under the default limit.
    const grammarBytes = Number(
      /^attendant_store_grammar_memory_bytes\{store="demo"\} (\d+)$/m.exec(
        await waitFor(`http://127.0.0.1:${port}/metrics`, 200, 5000),
      )?.[1],
    );
    expect(grammarBytes).toBeGreaterThan(0);
    expect(grammarBytes).toBeLessThan(1024 * 1024 * 1024);

    // A directory pushed over gRPC is what the next call uses, within a second, without a restart.
    const io = { out: () => undefined, err: () => undefined };
    const tokenOut: string[] = [];
    await run(['token', 'create', 'demo'], { out: (t) => tokenOut.push(t), err: () => undefined }, { ATTENDANT_DATA_DIR: dir });
    const pushed = Date.now();
    expect(
      await run(
        [
          'directory',
          'push',
          'demo',
          join(root, 'directory-fixtures', 'excel-export-utf8-bom.csv'),
          '--server',
          `127.0.0.1:${grpcPort}`,
          '--token',
          tokenOut[0],
        ],
        io,
        { ATTENDANT_DATA_DIR: dir },
      ),
    ).toBe(0);
    for (;;) {
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      if (/^attendant_store_directory_version\{store="demo"\} 2$/m.test(metrics)) break;
      expect(Date.now() - pushed).toBeLessThan(1000);
      await new Promise((r) => setTimeout(r, 20));
    }

    // The standard gRPC health check, as a load balancer or grpc_health_probe asks it.
    const healthProto = grpc.loadPackageDefinition(protoLoader.loadSync(healthProtoPath, { keepCase: true, enums: String }));
    const Health = ((healthProto.grpc as grpc.GrpcObject).health as grpc.GrpcObject).v1 as grpc.GrpcObject;
    const client = new (Health.Health as grpc.ServiceClientConstructor)(`127.0.0.1:${grpcPort}`, grpc.credentials.createInsecure());
    const check = (service: string): Promise<{ status: string }> =>
      new Promise((resolve, reject) =>
        (client as unknown as Record<string, (r: object, cb: (e: Error | null, v: { status: string }) => void) => void>).Check(
          { service },
          (e, v) => (e ? reject(e) : resolve(v)),
        ),
      );
    expect((await check('')).status).toBe('SERVING');
    expect((await check('attendant.v1.DirectoryService')).status).toBe('SERVING');
    await expect(check('no.such.Service')).rejects.toMatchObject({ code: grpc.status.NOT_FOUND });
    client.close();

    const first = JSON.parse(stderr.split('\n')[0]);
    expect(first.msg).toMatch(/loaded the demo store "demo" from directory-fixtures/);
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
