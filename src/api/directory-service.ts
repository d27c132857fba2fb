import * as grpc from '@grpc/grpc-js';
import { Logger } from 'pino';
import { DirectoryProblem, capProblems, formatProblem } from '../directory/problem';
import { MAX_DIRECTORY_ENTRIES, validateEntry } from '../directory/directory-file';
import { DirectoryStore, VersionInfo } from '../directory/directory-store';
import { DirectoryEntry } from '../directory/entry';
import { TokenStore } from './tokens';
import { Authorizer, createAuthorizer, Handler, MAX_STATUS_PROBLEMS, RpcError, toStatus } from './grpc';

/**
 * The gRPC DirectoryService (protos/attendant/v1/directory.proto): each store's admin
 * syncs that store's directory. Every call is authenticated; a store token works for
 * its own store only. Validation is the same as for files: all entries valid, or nothing.
 */

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

export function directoryServiceHandlers(
  options: DirectoryServiceOptions,
  authorize: Authorizer = createAuthorizer(options.tokens, options.log),
): Record<string, Handler<never, unknown>> {
  const { directory, log } = options;

  const unary =
    <Req extends { store: string }, Res>(
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
      async (req, origin) =>
        versionToWire(await directory.replaceDirectory(req.store, entriesFromWire(req.entries), origin, expected(req))),
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
          await directory.updateDirectory(
            req.store,
            (entries) => [...entries.filter((e) => e.id !== entry.id), entry],
            origin,
            expected(req),
          ),
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
