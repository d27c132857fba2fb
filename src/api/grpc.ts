import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { join } from 'node:path';
import { Logger } from 'pino';
import { DirectoryProblem } from '../directory/problem';
import { ErrorKind, kindOf, messageOf } from '../util/errors';
import { FailureLimiter } from './failure-limiter';
import { TokenInfo, TokenStore } from './tokens';

/**
 * What every gRPC service of attendant shares: the protos, the limits, the token check (and
 * its check on the metadata, before any message), and how an error becomes a status.
 */

export const PROTO_DIR = join(__dirname, '..', '..', '..', 'protos');
/** The largest legal directory (50,000 entries of every field at its limit is about 12 MB) fits. */
export const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;
/**
 * Connections at once from one address: a client opening hundreds of connections (each with
 * its streams) is refused the rest at once. An admin's sync or a PBX's hooks use one or two.
 */
export const MAX_CONNECTIONS_PER_ADDRESS = 32;
/** Streams at once on one HTTP/2 connection: a client holding hundreds of partial messages is refused the rest. */
export const MAX_CONCURRENT_STREAMS = 16;
/** Problems an INVALID_ARGUMENT carries: in its details, and in its trailers as JSON (which must fit HTTP/2 headers). */
export const MAX_STATUS_PROBLEMS = 20;
export const FAILURE_LIMIT = 10;
export const FAILURE_WINDOW_MS = 60_000;

export function loadDefinition(): protoLoader.PackageDefinition {
  return protoLoader.loadSync(
    [join(PROTO_DIR, 'attendant', 'v1', 'directory.proto'), join(PROTO_DIR, 'attendant', 'v1', 'attendant.proto')],
    {
      keepCase: true,
      longs: Number,
      defaults: true,
      oneofs: true,
      includeDirs: [PROTO_DIR],
    },
  );
}

export function loadProtos(): grpc.GrpcObject {
  return grpc.loadPackageDefinition(loadDefinition());
}

export class RpcError extends Error {
  constructor(
    readonly code: grpc.status,
    message: string,
    readonly problems: DirectoryProblem[] = [],
  ) {
    super(message);
  }
}

export type Handler<Req, Res> = (call: grpc.ServerUnaryCall<Req, Res>, callback: grpc.sendUnaryData<Res>) => void;

export type Authorizer = (call: grpc.ServerUnaryCall<unknown, unknown>, store: string | null) => Promise<TokenInfo>;

/**
 * Checks the bearer token of a call for a store (null: any valid token), counting failures
 * per peer address across every service that shares this authorizer: past FAILURE_LIMIT in
 * a minute, the peer's failing calls get RESOURCE_EXHAUSTED. A valid token still works
 * during a lockout, so that a colleague behind the same address is not locked out.
 */
export function createAuthorizer(
  tokens: TokenStore,
  log: Logger,
  limiter = new FailureLimiter(FAILURE_LIMIT, FAILURE_WINDOW_MS),
): Authorizer {
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

/** The gRPC status of each kind of error (util/errors.ts); anything else is INTERNAL. */
const GRPC_STATUS: Record<ErrorKind | 'internal', grpc.status> = {
  invalid: grpc.status.INVALID_ARGUMENT,
  'not-found': grpc.status.NOT_FOUND,
  conflict: grpc.status.FAILED_PRECONDITION,
  unavailable: grpc.status.UNAVAILABLE,
  unauthorized: grpc.status.UNAUTHENTICATED,
  forbidden: grpc.status.PERMISSION_DENIED,
  busy: grpc.status.RESOURCE_EXHAUSTED,
  internal: grpc.status.INTERNAL,
};

export function toStatus(err: unknown): Partial<grpc.StatusObject> {
  if (err instanceof RpcError) {
    const metadata = new grpc.Metadata();
    if (err.problems.length > 0) metadata.set('attendant-problems-bin', Buffer.from(JSON.stringify(err.problems)));
    return { code: err.code, details: err.message, metadata };
  }
  return { code: GRPC_STATUS[kindOf(err)], details: messageOf(err) };
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
                  intercepting.sendStatus({
                    code: status.code ?? grpc.status.UNAUTHENTICATED,
                    details: status.details ?? 'unauthenticated',
                    metadata: new grpc.Metadata(),
                  });
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
