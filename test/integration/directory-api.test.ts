import * as grpc from '@grpc/grpc-js';
import { execFileSync } from 'node:child_process';
import { connect } from 'node:http2';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { loadProtos, MAX_CONNECTIONS_PER_ADDRESS } from '../../src/api/grpc';
import { once } from 'node:events';
import { createConnection } from 'node:net';
import { startGrpcServer } from '../../src/api/grpc-server';
import { TokenStore } from '../../src/api/tokens';
import { Storage } from '../../src/cli/storage';
import { AttendantBackend } from '../../src/api/attendant-service';
import { readDirectory } from '../../src/directory/directory-file';
import { DirectoryStore } from '../../src/directory/directory-store';
import { run } from '../../src/cli/main';
import { loadSettings } from '../../src/config/settings';

const fixtures = join(__dirname, '..', '..', '..', 'directory-fixtures');
const demo = readDirectory(readFileSync(join(fixtures, 'demo-store.csv')), 'demo-store.csv').entries;
const wire = demo.map((e) => ({
  id: e.id,
  type: e.type,
  first_name: e.firstName,
  last_name: e.lastName,
  service_name: e.serviceName,
  department: e.department,
  extension: e.extension,
  aliases: e.aliases,
  enabled: e.enabled,
}));

type Call = (req: object, md: grpc.Metadata) => Promise<Record<string, unknown>>;

describe('DirectoryService over gRPC on 127.0.0.1', () => {
  let dir: string;
  let storage: Storage;
  let directory: DirectoryStore;
  let tokens: TokenStore;
  let closeServer: () => Promise<void>;
  let client: grpc.Client & Record<string, (...args: unknown[]) => void>;
  let storeToken: string;
  let otherToken: string;
  let adminToken: string;
  const changed: string[] = [];
  let address = '';
  let backend: AttendantBackend;

  const rpc =
    (name: string): Call =>
    (req, md) =>
      new Promise((resolve, reject) =>
        client[name](req, md, (err: grpc.ServiceError | null, res: Record<string, unknown>) => (err ? reject(err) : resolve(res))),
      );
  const auth = (token: string): grpc.Metadata => {
    const md = new grpc.Metadata();
    md.set('authorization', `Bearer ${token}`);
    return md;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'attendant-api-'));
    storage = await Storage.open({ dataDir: dir });
    ({ directory, tokens } = storage);
    await directory.createStore('paris-11');
    await directory.createStore('lyon-3');
    storeToken = (await tokens.create('paris-11')).token;
    otherToken = (await tokens.create('lyon-3')).token;
    adminToken = (await tokens.create(null)).token;
    const totals: Record<string, number> = { 'paris-11': 3, 'lyon-3': 1 };
    backend = {
      listCalls: async () => [],
      stats: (store?: string) => ({ active: 0, total: store === undefined ? 4 : (totals[store] ?? 0), byOutcome: {}, p50: 0, p95: 0 }),
      health: () => ({ ready: true, engine: 'test', stores: 0 }),
    };
    const started = await startGrpcServer(
      { directory, tokens, log: pino({ level: 'silent' }), onChange: (s) => changed.push(s), attendant: backend },
      '127.0.0.1',
      0,
    );
    closeServer = started.close;
    address = `127.0.0.1:${started.port}`;
    const Service = ((loadProtos().attendant as grpc.GrpcObject).v1 as grpc.GrpcObject).DirectoryService as grpc.ServiceClientConstructor;
    client = new Service(`127.0.0.1:${started.port}`, grpc.credentials.createInsecure()) as never;
  });
  afterAll(async () => {
    client.close();
    await closeServer();
    await storage.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('syncs a whole directory, gets it back and lists versions', async () => {
    const v = await rpc('SyncDirectory')({ store: 'paris-11', entries: wire }, auth(storeToken));
    expect(v).toMatchObject({ version: 1, entries: 72, added: 72 });
    expect(changed).toContain('paris-11');
    const got = await rpc('GetDirectory')({ store: 'paris-11' }, auth(storeToken));
    expect(got.version).toBe(1);
    expect((got.entries as { id: string; enabled: boolean }[]).find((e) => e.id === 'p61')?.enabled).toBe(false);
    expect((got.entries as unknown[]).length).toBe(72);
    const versions = await rpc('ListVersions')({ store: 'paris-11' }, auth(storeToken));
    expect((versions.versions as { via: string }[])[0].via).toBe('grpc');
  });

  it('carries a "sounds like" spelling both ways, and refuses one that does not line up with the name', async () => {
    await directory.createStore('brest-2');
    const token = (await tokens.create('brest-2')).token;
    const breton = {
      id: 'b01',
      type: 'person',
      first_name: 'Yann',
      last_name: 'Le Goff',
      extension: '3001',
      aliases: [],
      sounds_like: 'le gof',
    };
    await rpc('SyncDirectory')(
      { store: 'brest-2', entries: [breton, { ...breton, id: 'b02', last_name: 'Martin', sounds_like: '' }] },
      auth(token),
    );
    const got = (await rpc('GetDirectory')({ store: 'brest-2' }, auth(token))).entries as { id: string; sounds_like: string }[];
    expect(got.map((e) => [e.id, e.sounds_like])).toEqual([
      ['b01', 'le gof'],
      ['b02', ''],
    ]);
    await expect(
      rpc('SyncDirectory')({ store: 'brest-2', entries: [{ ...breton, sounds_like: 'a b c d' }] }, auth(token)),
    ).rejects.toMatchObject({
      code: grpc.status.INVALID_ARGUMENT,
      details: expect.stringContaining('sounds_like'),
    });
  });

  it('upserts and deletes single entries, then rolls back', async () => {
    const base = (await rpc('GetDirectory')({ store: 'paris-11' }, auth(storeToken))).version as number;
    await rpc('UpsertEntry')(
      { store: 'paris-11', entry: { id: 'n01', type: 'person', last_name: 'Nouveau', extension: '2999' } },
      auth(storeToken),
    );
    const del = await rpc('DeleteEntry')({ store: 'paris-11', id: 'p01' }, auth(storeToken));
    expect(del).toMatchObject({ version: base + 2, removed: 1 });
    const got = await rpc('GetDirectory')({ store: 'paris-11' }, auth(storeToken));
    const ids = (got.entries as { id: string; enabled: boolean }[]).map((e) => e.id);
    expect(ids).toContain('n01');
    expect(ids).not.toContain('p01');
    expect((got.entries as { id: string; enabled: boolean }[]).find((e) => e.id === 'n01')?.enabled).toBe(true);
    await rpc('Rollback')({ store: 'paris-11', version: base }, auth(storeToken));
    const back = await rpc('GetDirectory')({ store: 'paris-11' }, auth(storeToken));
    expect((back.entries as { id: string }[]).map((e) => e.id)).toContain('p01');
  });

  it('refuses invalid entries with every problem and changes nothing', async () => {
    const before = (await rpc('GetDirectory')({ store: 'paris-11' }, auth(storeToken))).version;
    const bad = [
      { id: 'a', type: 'person', last_name: '', extension: '12' },
      { id: 'b', type: 'robot', last_name: 'X', extension: 'abc' },
    ];
    const err = await rpc('SyncDirectory')({ store: 'paris-11', entries: bad }, auth(storeToken)).catch((e: grpc.ServiceError) => e);
    expect((err as grpc.ServiceError).code).toBe(grpc.status.INVALID_ARGUMENT);
    expect((err as grpc.ServiceError).details).toMatch(/3 problems; nothing was changed/);
    expect((err as grpc.ServiceError).details).toMatch(/entries\[1\], field extension: "abc" is not an extension/);
    const problems = JSON.parse(String((err as grpc.ServiceError).metadata.get('attendant-problems-bin')[0]));
    expect(problems).toHaveLength(3);
    expect((await rpc('GetDirectory')({ store: 'paris-11' }, auth(storeToken))).version).toBe(before);
  });

  it('answers a directory of 600 bad rows with INVALID_ARGUMENT and a bounded list of problems, saying how many more', async () => {
    const bad = Array.from({ length: 600 }, (_, i) => ({ id: `p${i}`, type: 'person', last_name: 'Le Bihan', extension: `x${i}` }));
    const err = (await rpc('SyncDirectory')({ store: 'paris-11', entries: bad }, auth(storeToken)).catch(
      (e: grpc.ServiceError) => e,
    )) as grpc.ServiceError;
    expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(err.details).toMatch(/^600 problems; nothing was changed/);
    expect(err.details).toContain('… and 580 more problems');
    expect(JSON.parse(String(err.metadata.get('attendant-problems-bin')[0]))).toHaveLength(21);
  });

  it('refuses a call with no token when its metadata arrives, before the 15 MiB message it announces', async () => {
    const session = connect(`http://${address}`);
    try {
      const stream = session.request({
        ':method': 'POST',
        ':path': '/attendant.v1.DirectoryService/SyncDirectory',
        'content-type': 'application/grpc',
        te: 'trailers',
      });
      const header = Buffer.alloc(5);
      header.writeUInt32BE(15 * 1024 * 1024, 1);
      stream.write(header);
      stream.write(Buffer.alloc(64 * 1024));
      // The message is never finished: the status must come all the same (within 5 s).
      const status = await new Promise<string>((resolve) => {
        const timer = setTimeout(() => resolve('no status within 5 s'), 5000);
        stream.on('response', (h) => h['grpc-status'] !== undefined && (clearTimeout(timer), resolve(String(h['grpc-status']))));
        stream.on('trailers', (h) => (clearTimeout(timer), resolve(String(h['grpc-status']))));
      });
      expect(status).toBe(String(grpc.status.UNAUTHENTICATED));
    } finally {
      session.destroy();
    }
  });

  it('tells a caller without a token only whether attendant serves, nothing of its engine or stores', async () => {
    const Attendant = ((loadProtos().attendant as grpc.GrpcObject).v1 as grpc.GrpcObject).AttendantService as grpc.ServiceClientConstructor;
    const ops = new Attendant(address, grpc.credentials.createInsecure()) as grpc.Client & Record<string, (...args: unknown[]) => void>;
    const health = (md: grpc.Metadata) =>
      new Promise<Record<string, unknown>>((resolve, reject) =>
        ops.Health({}, md, (err: Error | null, res: Record<string, unknown>) => (err ? reject(err) : resolve(res))),
      );
    try {
      expect(await health(new grpc.Metadata())).toEqual({ ready: true, engine: '', stores: 0 });
      expect(await health(auth(adminToken))).toEqual({ ready: true, engine: 'test', stores: 0 });
    } finally {
      ops.close();
    }
  });

  it('refuses an empty directory as a file import does, keeping the version calls use', async () => {
    const before = (await rpc('GetDirectory')({ store: 'paris-11' }, auth(storeToken))).version;
    const err = await rpc('SyncDirectory')({ store: 'paris-11', entries: [] }, auth(storeToken)).catch((e: grpc.ServiceError) => e);
    expect(err).toMatchObject({ code: grpc.status.INVALID_ARGUMENT, details: expect.stringMatching(/at least one entry/) });
    expect((await rpc('GetDirectory')({ store: 'paris-11' }, auth(storeToken))).version).toBe(before);
    expect((await directory.listVersions('paris-11')).every((v) => v.entries > 0)).toBe(true);
  });

  it('refuses a stale expected_version with FAILED_PRECONDITION', async () => {
    const err = await rpc('SyncDirectory')({ store: 'paris-11', entries: wire, expected_version: 1 }, auth(storeToken)).catch((e) => e);
    expect((err as grpc.ServiceError).code).toBe(grpc.status.FAILED_PRECONDITION);
  });

  it('lets exactly one of two concurrent syncs at the same version through', async () => {
    const version = (await rpc('GetDirectory')({ store: 'paris-11' }, auth(storeToken))).version;
    const results = await Promise.allSettled([
      rpc('SyncDirectory')({ store: 'paris-11', entries: wire.slice(0, 10), expected_version: version }, auth(storeToken)),
      rpc('SyncDirectory')({ store: 'paris-11', entries: wire.slice(10, 20), expected_version: version }, auth(storeToken)),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(
      results.filter((r) => r.status === 'rejected').map((r) => ((r as PromiseRejectedResult).reason as grpc.ServiceError).code),
    ).toEqual([grpc.status.FAILED_PRECONDITION]);
  });

  it("keeps stores apart: no token, a wrong token and another store's token are refused", async () => {
    const none = await rpc('GetDirectory')({ store: 'paris-11' }, new grpc.Metadata()).catch((e) => e);
    expect((none as grpc.ServiceError).code).toBe(grpc.status.UNAUTHENTICATED);
    const wrong = await rpc('GetDirectory')({ store: 'paris-11' }, auth('att_not-a-token')).catch((e) => e);
    expect((wrong as grpc.ServiceError).code).toBe(grpc.status.UNAUTHENTICATED);
    const other = await rpc('GetDirectory')({ store: 'paris-11' }, auth(otherToken)).catch((e) => e);
    expect((other as grpc.ServiceError).code).toBe(grpc.status.PERMISSION_DENIED);
    expect((await rpc('GetDirectory')({ store: 'lyon-3' }, auth(adminToken))).version).toBe(0);
  });

  it('takes a file pushed by `attendant directory push`, with the same validation as a local import', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (t: string) => out.push(t), err: (t: string) => err.push(t) };
    const env = { ATTENDANT_DATA_DIR: dir };
    const push = (file: string, token: string): Promise<number> =>
      run(['directory', 'push', 'lyon-3', join(fixtures, file), '--server', address, '--token', token], io, env);
    expect(await push('demo-store.csv', otherToken)).toBe(0);
    expect(out[0]).toMatch(/^store lyon-3: version 1, 72 entries \(72 added, 0 changed, 0 removed\)$/);
    expect(await push('broken-duplicate-id.csv', otherToken)).toBe(1);
    expect(err).toContain(`${join(fixtures, 'broken-duplicate-id.csv')} line 5, field id: "p02" is used twice (first on line 3)`);
    expect(await push('demo-store.csv', storeToken)).toBe(1);
    expect(err[err.length - 1]).toMatch(/this token is for store "paris-11", not "lyon-3"/);
    expect(
      await run(
        ['directory', 'push', 'lyon-3', join(fixtures, 'demo-store.csv'), '--server', '127.0.0.1:1', '--token', otherToken],
        io,
        env,
      ),
    ).toBe(3);
  });

  it('answers server reflection with the DirectoryService', async () => {
    const { loadSync } = await import('@grpc/proto-loader');
    const reflectionProto = require.resolve('@grpc/reflection/build/proto/grpc/reflection/v1/reflection.proto');
    const pkg = grpc.loadPackageDefinition(loadSync(reflectionProto, { keepCase: true }));
    const Reflection = (((pkg.grpc as grpc.GrpcObject).reflection as grpc.GrpcObject).v1 as grpc.GrpcObject)
      .ServerReflection as grpc.ServiceClientConstructor;
    const reflection = new Reflection(address, grpc.credentials.createInsecure());
    const stream = (
      reflection as unknown as {
        ServerReflectionInfo: () => grpc.ClientDuplexStream<object, { list_services_response?: { service: { name: string }[] } }>;
      }
    ).ServerReflectionInfo();
    const names = await new Promise<string[]>((resolve, reject) => {
      stream.on('data', (res) => resolve((res.list_services_response?.service ?? []).map((s: { name: string }) => s.name)));
      stream.on('error', reject);
      stream.write({ list_services: '' });
    });
    stream.end();
    reflection.close();
    expect(names).toContain('attendant.v1.DirectoryService');
  });

  it("refuses another store's token on every RPC that names a store, and scopes GetStats to the token's store", async () => {
    // A server of its own: the refusals below must not be counted with the other tests' (10 a minute per peer).
    const fresh = await startGrpcServer({ directory, tokens, log: pino({ level: 'silent' }), attendant: backend }, '127.0.0.1', 0);
    const Attendant = ((loadProtos().attendant as grpc.GrpcObject).v1 as grpc.GrpcObject).AttendantService as grpc.ServiceClientConstructor;
    const Directory = ((loadProtos().attendant as grpc.GrpcObject).v1 as grpc.GrpcObject).DirectoryService as grpc.ServiceClientConstructor;
    const att = new Attendant(`127.0.0.1:${fresh.port}`, grpc.credentials.createInsecure()) as grpc.Client &
      Record<string, (...args: unknown[]) => void>;
    const dir2 = new Directory(`127.0.0.1:${fresh.port}`, grpc.credentials.createInsecure()) as grpc.Client &
      Record<string, (...args: unknown[]) => void>;
    const on =
      (c: typeof att) =>
      (name: string): Call =>
      (req, md) =>
        new Promise((resolve, reject) =>
          c[name](req, md, (err: grpc.ServiceError | null, res: Record<string, unknown>) => (err ? reject(err) : resolve(res))),
        );
    const arpc = on(att);
    const rpc = on(dir2);
    try {
      const lyon = auth(otherToken);
      const refused: [Call, object][] = [
        [rpc('SyncDirectory'), { store: 'paris-11', entries: wire }],
        [rpc('GetDirectory'), { store: 'paris-11' }],
        [rpc('ListVersions'), { store: 'paris-11' }],
        [rpc('Rollback'), { store: 'paris-11', version: 1 }],
        [rpc('UpsertEntry'), { store: 'paris-11', entry: { id: 'x1', type: 'person', last_name: 'X', extension: '2990' } }],
        [rpc('DeleteEntry'), { store: 'paris-11', id: 'p02' }],
        [arpc('ListCalls'), { store: 'paris-11', limit: 5 }],
        [arpc('GetStats'), { store: 'paris-11' }],
      ];
      for (const [call, req] of refused) await expect(call(req, lyon)).rejects.toMatchObject({ code: grpc.status.PERMISSION_DENIED });
      // GetStats: a store token gets its own store's figures only; an admin token every store's.
      expect(await arpc('GetStats')({}, lyon)).toMatchObject({ calls_total: 1, store: 'lyon-3' });
      expect(await arpc('GetStats')({}, auth(storeToken))).toMatchObject({ calls_total: 3, store: 'paris-11' });
      expect(await arpc('GetStats')({}, auth(adminToken))).toMatchObject({ calls_total: 4, store: '' });
      expect(await arpc('GetStats')({ store: 'lyon-3' }, auth(adminToken))).toMatchObject({ calls_total: 1, store: 'lyon-3' });
    } finally {
      att.close();
      dir2.close();
      await fresh.close();
    }
  });

  it(`refuses an address its connections past ${MAX_CONNECTIONS_PER_ADDRESS}, at once, and takes its calls again once they close`, async () => {
    const [host, port] = address.split(':');
    const sockets = await Promise.all(
      Array.from({ length: MAX_CONNECTIONS_PER_ADDRESS + 8 }, () => {
        const socket = createConnection({ host, port: Number(port) });
        socket.on('error', () => undefined);
        return once(socket, 'connect').then(() => socket);
      }),
    );
    // Refused ones are closed by the server without a byte; the others stay open.
    await new Promise((r) => setTimeout(r, 300));
    // (Other clients of this suite may hold a connection from the same address already.)
    const closed = sockets.filter((s) => s.destroyed || s.readableEnded).length;
    expect(closed).toBeGreaterThanOrEqual(8);
    expect(sockets.length - closed).toBeLessThanOrEqual(MAX_CONNECTIONS_PER_ADDRESS);
    // A client from the same address meanwhile: refused (its connection is one too many).
    const Health = ((loadProtos().attendant as grpc.GrpcObject).v1 as grpc.GrpcObject).AttendantService as grpc.ServiceClientConstructor;
    // A connection of its own (grpc-js would share this suite's client's otherwise).
    const own = { 'grpc.use_local_subchannel_pool': 1 };
    const probe = new Health(address, grpc.credentials.createInsecure(), own) as grpc.Client & Record<string, (...args: unknown[]) => void>;
    const health = (): Promise<grpc.ServiceError | null> =>
      new Promise((resolve) =>
        probe.Health({}, new grpc.Metadata(), { deadline: Date.now() + 2000 }, (err: grpc.ServiceError | null) => resolve(err)),
      );
    expect((await health())?.code).toBe(grpc.status.UNAVAILABLE);
    probe.close();
    for (const s of sockets) s.destroy();
    await new Promise((r) => setTimeout(r, 200));
    // A new client once they are closed: answered.
    const again = new Health(address, grpc.credentials.createInsecure(), own) as grpc.Client & Record<string, (...args: unknown[]) => void>;
    const answer = await new Promise<grpc.ServiceError | null>((resolve) =>
      again.Health({}, new grpc.Metadata(), { deadline: Date.now() + 5000 }, (err: grpc.ServiceError | null) => resolve(err)),
    );
    again.close();
    expect(answer).toBeNull();
  });

  it('rate-limits a peer after 10 failed authentications counted across services, without locking out a valid token', async () => {
    const Attendant = ((loadProtos().attendant as grpc.GrpcObject).v1 as grpc.GrpcObject).AttendantService as grpc.ServiceClientConstructor;
    const other = new Attendant(address, grpc.credentials.createInsecure()) as grpc.Client & Record<string, (...args: unknown[]) => void>;
    const listCalls = (md: grpc.Metadata) =>
      new Promise<grpc.ServiceError | null>((resolve) =>
        other.ListCalls({ store: 'paris-11', limit: 1 }, md, (err: grpc.ServiceError | null) => resolve(err)),
      );
    try {
      // Wrong tokens on each service in turn (earlier tests failed some already): one count
      // for both, so the peer is refused within 10 failures, not 10 on each service.
      let attempts = 0;
      let code: grpc.status | undefined;
      while (attempts < 25 && code !== grpc.status.RESOURCE_EXHAUSTED) {
        attempts += 1;
        code =
          attempts % 2 === 0
            ? (await listCalls(auth('att_guess')))?.code
            : ((await rpc('GetDirectory')({ store: 'paris-11' }, auth('att_guess')).catch((e) => e)) as grpc.ServiceError).code;
      }
      expect(code).toBe(grpc.status.RESOURCE_EXHAUSTED);
      expect(attempts).toBeLessThanOrEqual(11);
      expect((await listCalls(auth('att_guess')))?.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
      // A colleague behind the same address, with a valid token, is not locked out.
      await expect(rpc('GetDirectory')({ store: 'paris-11' }, auth(storeToken))).resolves.toHaveProperty('version');
      expect(await listCalls(auth(storeToken))).toBeNull();
    } finally {
      other.close();
    }
  });
});

describe('attendant token', () => {
  it('prints a token once, lists it without the secret, and revokes it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'attendant-tok-'));
    const env = { ATTENDANT_DATA_DIR: dir };
    const out: string[] = [];
    const io = { out: (t: string) => out.push(t), err: () => undefined };
    try {
      await run(['store', 'create', 's1'], io, env);
      expect(await run(['token', 'create', 's1'], io, env)).toBe(0);
      const token = out[1];
      expect(token).toMatch(/^att_[A-Za-z0-9_-]{32}$/);
      expect(await run(['token', 'create', 'nope'], io, env)).toBe(1);
      out.length = 0;
      await run(['token', 'list'], io, env);
      expect(out.join('\n')).not.toContain(token);
      const id = out[0].split('\t')[0];
      expect(await run(['token', 'revoke', id], io, env)).toBe(0);
      const storage = await Storage.open({ dataDir: dir });
      expect(await storage.tokens.verify(token)).toBeUndefined();
      await storage.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('gRPC over TLS (issue 13, 7)', () => {
  let dir: string;
  let closeServer: () => Promise<void>;
  let address = '';
  let ca = '';
  let token = '';
  const env = (): Record<string, string> => ({ ATTENDANT_DATA_DIR: dir });
  let storage: Storage;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'attendant-tls-'));
    // A self-signed certificate for this host, made by Debian's openssl.
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '2',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost,IP:127.0.0.1',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    ca = join(dir, 'cert.pem');
    const settings = loadSettings({ ATTENDANT_GRPC_TLS_CERT: join(dir, 'cert.pem'), ATTENDANT_GRPC_TLS_KEY: join(dir, 'key.pem') });
    storage = await Storage.open({ dataDir: dir });
    const { directory, tokens } = storage;
    await directory.createStore('brest');
    token = (await tokens.create('brest')).token;
    const started = await startGrpcServer(
      { directory, tokens, log: pino({ level: 'silent' }), onChange: () => undefined },
      '127.0.0.1',
      0,
      settings.grpcTls,
    );
    closeServer = started.close;
    address = `127.0.0.1:${started.port}`;
  });
  afterAll(async () => {
    await closeServer();
    await storage.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('takes `directory push --ca` (or ATTENDANT_GRPC_TLS_CA) and refuses plaintext and an unknown authority', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (t: string) => out.push(t), err: (t: string) => err.push(t) };
    const push = (extra: string[], more: Record<string, string> = {}): Promise<number> =>
      run(['directory', 'push', 'brest', join(fixtures, 'demo-store.csv'), '--server', address, '--token', token, ...extra], io, {
        ...env(),
        ...more,
      });
    expect(await push(['--ca', ca])).toBe(0);
    expect(out.pop()).toMatch(/^store brest: version 1, 72 entries/);
    expect(await push([], { ATTENDANT_GRPC_TLS_CA: ca })).toBe(0);
    expect(out.pop()).toMatch(/^store brest: version 2/);
    // Plaintext to a TLS server, and TLS checked against the system's authorities: no connection.
    expect(await push([])).toBe(3);
    expect(await push(['--tls'])).toBe(3);
    expect(await push(['--ca', join(dir, 'key.pem')])).toBe(2);
    expect(err.pop()).toMatch(/--ca=".*key\.pem" is not a PEM certificate/);
  }, 60_000);

  it('refuses at start a certificate without its key, or a file that is not one, naming the setting', () => {
    expect(() => loadSettings({ ATTENDANT_GRPC_TLS_CERT: ca })).toThrow(
      /ATTENDANT_GRPC_TLS_CERT and ATTENDANT_GRPC_TLS_KEY go together: set ATTENDANT_GRPC_TLS_KEY/,
    );
    expect(() => loadSettings({ ATTENDANT_GRPC_TLS_CERT: join(dir, 'key.pem'), ATTENDANT_GRPC_TLS_KEY: join(dir, 'key.pem') })).toThrow(
      /ATTENDANT_GRPC_TLS_CERT=".*key\.pem" is not a PEM certificate/,
    );
    expect(() => loadSettings({ ATTENDANT_GRPC_TLS_CERT: ca, ATTENDANT_GRPC_TLS_KEY: join(dir, 'missing.pem') })).toThrow(
      /ATTENDANT_GRPC_TLS_KEY=".*missing\.pem" cannot be read \(ENOENT\)/,
    );
  });
});
