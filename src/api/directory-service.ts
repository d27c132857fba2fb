import * as grpc from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import * as protoLoader from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { join } from 'node:path';
import { Logger } from 'pino';
import { DirectoryProblem, MAX_DIRECTORY_ENTRIES, capProblems, formatProblem, validateEntry } from '../directory/directory-file';
import {
  DirectoryStore, EmptyDirectoryError, StoreNotFoundError, VersionConflictError, VersionInfo,
} from '../directory/directory-store';
import { DirectoryEntry } from '../directory/entry';
import { TokenInfo, TokenStore } from './tokens';
import { FailureLimiter } from './failure-limiter';
import { DatabaseUnavailableError } from '../storage/sql';
import { AttendantBackend, attendantServiceHandlers } from './attendant-service';

/**
 * The gRPC DirectoryService (protos/attendant/v1/directory.proto): each store's admin
 * syncs that store's directory. Every call is authenticated; a store token works for
 * its own store only. Validation is the same as for files: all entries valid, or nothing.
 */

export const PROTO_DIR = join(__dirname, '..', '..', '..', 'protos');
/** The largest legal directory (50,000 entries of every field at its limit is about 12 MB) fits. */
export const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;
/** Streams at once on one HTTP/2 connection: a client holding hundreds of partial messages is refused the rest. */
export const MAX_CONCURRENT_STREAMS = 16;
/** Problems an INVALID_ARGUMENT carries: in its details, and in its trailers as JSON (which must fit HTTP/2 headers). */
export const MAX_STATUS_PROBLEMS = 20;
export const FAILURE_LIMIT = 10;
export const FAILURE_WINDOW_MS = 60_000;

function loadDefinition(): protoLoader.PackageDefinition {
  return protoLoader.loadSync([join(PROTO_DIR, 'attendant', 'v1', 'directory.proto'), join(PROTO_DIR, 'attendant', 'v1', 'attendant.proto')], {
    keepCase: true,
    longs: Number,
    defaults: true,
    oneofs: true,
    includeDirs: [PROTO_DIR],
  });
}

export function loadProtos(): grpc.GrpcObject {
  return grpc.loadPackageDefinition(loadDefinition());
}

export interface WireEntry {
  id: string;
  type: string;
  first_name: string;
  last_name: string;
  service_name: string;
  department: string;
  extension: string;
  aliases: string[];
  enabled?: boolean;
  _enabled?: string;
  sounds_like?: string;
}

/** An entry as the proto spells it. */
export const toWire = (e: DirectoryEntry): WireEntry => ({
  id: e.id,
  type: e.type,
  first_name: e.firstName,
  last_name: e.lastName,
  service_name: e.serviceName,
  department: e.department,
  extension: e.extension,
  aliases: e.aliases,
  enabled: e.enabled,
  sounds_like: e.soundsLike ?? '',
});

const versionToWire = (v: VersionInfo) => ({
  version: v.version,
  created_at: v.createdAt,
  via: v.via,
  actor: v.actor,
  entries: v.entries,
  added: v.added,
  changed: v.changed,
  removed: v.removed,
  current: v.current,
});

export class RpcError extends Error {
  constructor(
    readonly code: grpc.status,
    message: string,
    readonly problems: DirectoryProblem[] = [],
  ) {
    super(message);
  }
}

/** Checks every wire entry; throws INVALID_ARGUMENT listing every problem. */
export function entriesFromWire(list: WireEntry[]): DirectoryEntry[] {
  const problems: DirectoryProblem[] = [];
  if (list.length > MAX_DIRECTORY_ENTRIES) {
    throw new RpcError(grpc.status.INVALID_ARGUMENT, `${list.length} entries; the limit is ${MAX_DIRECTORY_ENTRIES}`);
  }
  const entries: DirectoryEntry[] = [];
  const first = new Map<string, string>();
  list.forEach((w, i) => {
    const where = `entries[${i}]`;
    const entry = validateEntry(
      {
        id: w.id,
        type: w.type,
        first_name: w.first_name,
        last_name: w.last_name,
        service_name: w.service_name,
        department: w.department,
        extension: w.extension,
        aliases: w.aliases,
        enabled: w._enabled === 'enabled' ? w.enabled : true,
        sounds_like: w.sounds_like,
      },
      where,
      problems,
    );
    if (entry === undefined) return;
    const seen = first.get(entry.id);
    if (seen !== undefined) problems.push({ where, field: 'id', message: `"${entry.id}" is used twice (first in ${seen})` });
    else first.set(entry.id, where);
    entries.push(entry);
  });
  if (problems.length > 0) {
    // Bounded: a status goes out in trailers, and a few thousand problems would not fit them (the client saw no status at all).
    const shown = capProblems(problems, MAX_STATUS_PROBLEMS);
    throw new RpcError(
      grpc.status.INVALID_ARGUMENT,
      `${problems.length} problem${problems.length > 1 ? 's' : ''}; nothing was changed:\n${shown.map((p) => formatProblem('request', p)).join('\n')}`,
      shown,
    );
  }
  return entries;
}

export interface DirectoryServiceOptions {
  directory: DirectoryStore;
  tokens: TokenStore;
  log: Logger;
  /** Called after a store's directory changed, to make the change live. */
  onChange?: (store: string) => void;
}

export type Handler<Req, Res> = (call: grpc.ServerUnaryCall<Req, Res>, callback: grpc.sendUnaryData<Res>) => void;

export type Authorizer = (call: grpc.ServerUnaryCall<unknown, unknown>, store: string | null) => Promise<TokenInfo>;

/**
 * Checks the bearer token of a call for a store (null: any valid token), counting failures
 * per peer address across every service that shares this authorizer: past FAILURE_LIMIT in
 * a minute, the peer's failing calls get RESOURCE_EXHAUSTED. A valid token still works
 * during a lockout, so that a colleague behind the same address is not locked out.
 */
export function createAuthorizer(tokens: TokenStore, log: Logger, limiter = new FailureLimiter(FAILURE_LIMIT, FAILURE_WINDOW_MS)): Authorizer {
  return async (call, store) => {
    const peer = FailureLimiter.addressOf(call.getPeer());
    const fail = (code: grpc.status, message: string): never => {
      if (limiter.locked(peer)) throw new RpcError(grpc.status.RESOURCE_EXHAUSTED, 'too many failed authentications; retry in a minute');
      limiter.fail(peer);
      log.warn({ peer, store, reason: message }, 'API authentication failed');
      throw new RpcError(code, message);
    };
    const header = call.metadata.get('authorization')[0];
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    if (match === null) return fail(grpc.status.UNAUTHENTICATED, 'missing "authorization: Bearer <token>" metadata');
    const token = await tokens.verify(match[1]);
    if (token === undefined) return fail(grpc.status.UNAUTHENTICATED, 'unknown or revoked token');
    if (store !== null && token.store !== null && token.store !== store) {
      return fail(grpc.status.PERMISSION_DENIED, `this token is for store "${token.store}", not "${store}"`);
    }
    return token;
  };
}

export function directoryServiceHandlers(options: DirectoryServiceOptions, authorize: Authorizer = createAuthorizer(options.tokens, options.log)): Record<string, Handler<never, unknown>> {
  const { directory, log } = options;

  const unary = <Req extends { store: string }, Res>(
    name: string,
    fn: (req: Req, origin: { via: string; actor: string }) => Promise<Res>,
    changes: boolean,
  ): Handler<Req, Res> =>
    async (call, callback) => {
      try {
        const token = await authorize(call as grpc.ServerUnaryCall<unknown, unknown>, call.request.store);
        const result = await fn(call.request, { via: 'grpc', actor: `token ${token.id}` });
        if (changes) {
          log.info({ store: call.request.store, rpc: name, token: token.id }, 'directory changed over gRPC');
          options.onChange?.(call.request.store);
        }
        callback(null, result);
      } catch (err) {
        callback(toStatus(err));
      }
    };

  const expected = (req: { expected_version?: number; _expected_version?: string }): number | undefined =>
    req._expected_version === 'expected_version' ? req.expected_version : undefined;

  return {
    SyncDirectory: unary<{ store: string; entries: WireEntry[]; expected_version?: number; _expected_version?: string }, unknown>(
      'SyncDirectory',
      async (req, origin) => versionToWire(await directory.replaceDirectory(req.store, entriesFromWire(req.entries), origin, expected(req))),
      true,
    ),
    GetDirectory: unary<{ store: string; version?: number; _version?: string }, unknown>(
      'GetDirectory',
      async (req) => {
        const snapshot = await directory.snapshot(req.store, req._version === 'version' ? req.version : undefined);
        return { store: snapshot.store, version: snapshot.version, entries: snapshot.entries.map(toWire) };
      },
      false,
    ),
    ListVersions: unary<{ store: string }, unknown>(
      'ListVersions',
      async (req) => ({ versions: (await directory.listVersions(req.store)).map(versionToWire) }),
      false,
    ),
    Rollback: unary<{ store: string; version: number }, unknown>(
      'Rollback',
      async (req, origin) => versionToWire(await directory.rollback(req.store, req.version, origin)),
      true,
    ),
    UpsertEntry: unary<{ store: string; entry: WireEntry | null; expected_version?: number; _expected_version?: string }, unknown>(
      'UpsertEntry',
      async (req, origin) => {
        if (req.entry === null) throw new RpcError(grpc.status.INVALID_ARGUMENT, 'entry is missing');
        const [entry] = entriesFromWire([req.entry]);
        return versionToWire(
          await directory.updateDirectory(req.store, (entries) => [...entries.filter((e) => e.id !== entry.id), entry], origin, expected(req)),
        );
      },
      true,
    ),
    DeleteEntry: unary<{ store: string; id: string; expected_version?: number; _expected_version?: string }, unknown>(
      'DeleteEntry',
      async (req, origin) =>
        versionToWire(
          await directory.updateDirectory(
            req.store,
            (entries) => {
              if (!entries.some((e) => e.id === req.id)) {
                throw new RpcError(grpc.status.NOT_FOUND, `store "${req.store}" has no entry "${req.id}"`);
              }
              return entries.filter((e) => e.id !== req.id);
            },
            origin,
            expected(req),
          ),
        ),
      true,
    ),
  };
}

export function toStatus(err: unknown): Partial<grpc.StatusObject> {
  if (err instanceof RpcError) {
    const metadata = new grpc.Metadata();
    if (err.problems.length > 0) metadata.set('attendant-problems-bin', Buffer.from(JSON.stringify(err.problems)));
    return { code: err.code, details: err.message, metadata };
  }
  if (err instanceof StoreNotFoundError) return { code: grpc.status.NOT_FOUND, details: err.message };
  if (err instanceof VersionConflictError) return { code: grpc.status.FAILED_PRECONDITION, details: err.message };
  if (err instanceof EmptyDirectoryError) return { code: grpc.status.INVALID_ARGUMENT, details: err.message };
  if (err instanceof DatabaseUnavailableError) return { code: grpc.status.UNAVAILABLE, details: err.message };
  const message = (err as Error).message ?? String(err);
  if (/has no version/.test(message)) return { code: grpc.status.NOT_FOUND, details: message };
  return { code: grpc.status.INTERNAL, details: message };
}

/** Services whose every call needs a token; AttendantService.Health and the standard health and reflection services do not. */
const AUTHENTICATED = /^\/attendant\.v1\.(DirectoryService\/|AttendantService\/(?!Health$))/;

/**
 * Refuses a call without a valid token when its metadata arrives, before its message: the
 * token was checked only once a whole message had been received, so 300 streams of 15 MiB
 * each, with no token, held 4 GB. The handlers still check the token against the store asked for.
 */
export function authenticateFirst(authorize: Authorizer): grpc.ServerInterceptor {
  return (method, call) => {
    if (!AUTHENTICATED.test(method.path)) return new grpc.ServerInterceptingCall(call);
    const intercepting: grpc.ServerInterceptingCall = new grpc.ServerInterceptingCall(call, {
      start: (next) => {
        next(
          new grpc.ServerListenerBuilder()
            .withOnReceiveMetadata((metadata, nextMetadata) => {
              const probe = { metadata, getPeer: () => call.getPeer() } as unknown as grpc.ServerUnaryCall<unknown, unknown>;
              authorize(probe, null).then(
                () => nextMetadata(metadata),
                (err: unknown) => {
                  const status = toStatus(err);
                  intercepting.sendStatus({ code: status.code ?? grpc.status.UNAUTHENTICATED, details: status.details ?? 'unauthenticated', metadata: new grpc.Metadata() });
                },
              );
            })
            .build(),
        );
      },
    });
    return intercepting;
  };
}

/** Starts a gRPC server with the DirectoryService on `host:port` (port 0: any free port). */
export async function startGrpcServer(
  options: DirectoryServiceOptions & { attendant?: AttendantBackend; limiter?: FailureLimiter },
  host: string,
  port: number,
  tls?: { cert: Buffer; key: Buffer },
): Promise<{ server: grpc.Server; port: number; health: HealthImplementation }> {
  const definition = loadDefinition();
  const protos = grpc.loadPackageDefinition(definition);
  const v1 = (protos.attendant as grpc.GrpcObject).v1 as grpc.GrpcObject;
  const service = v1.DirectoryService as grpc.ServiceClientConstructor;
  // One failed-authentication count per peer for every service.
  const authorize = createAuthorizer(options.tokens, options.log, options.limiter);
  const server = new grpc.Server({
    'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
    'grpc.max_concurrent_streams': MAX_CONCURRENT_STREAMS,
    interceptors: [authenticateFirst(authorize)],
  });
  server.addService(service.service, directoryServiceHandlers(options, authorize) as unknown as grpc.UntypedServiceImplementation);
  if (options.attendant !== undefined) {
    const attendant = v1.AttendantService as grpc.ServiceClientConstructor;
    server.addService(attendant.service, attendantServiceHandlers(options.attendant, authorize) as unknown as grpc.UntypedServiceImplementation);
  }
  // Server reflection, so that grpcurl-style clients can list and call the service.
  new ReflectionService(definition).addToServer(server);
  // The standard grpc.health.v1 service (load balancers, grpc_health_probe): NOT_SERVING until the caller says ready.
  const names = ['', 'attendant.v1.DirectoryService', ...(options.attendant !== undefined ? ['attendant.v1.AttendantService'] : [])];
  const health = new HealthImplementation(Object.fromEntries(names.map((n) => [n, 'NOT_SERVING' as const])));
  health.addToServer(server);
  const bound = await new Promise<number>((resolve, reject) =>
    server.bindAsync(
      `${host}:${port}`,
      tls === undefined ? grpc.ServerCredentials.createInsecure() : grpc.ServerCredentials.createSsl(null, [{ cert_chain: tls.cert, private_key: tls.key }], false),
      (err, p) => (err ? reject(err) : resolve(p)),
    ),
  );
  return { server, port: bound, health };
}

/** Sets every service of a server's grpc.health.v1 at once. */
export function setHealth(health: HealthImplementation, serving: boolean): void {
  for (const n of ['', 'attendant.v1.DirectoryService', 'attendant.v1.AttendantService']) health.setStatus(n, serving ? 'SERVING' : 'NOT_SERVING');
}
