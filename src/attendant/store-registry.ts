import type { Logger } from 'pino';
import { Snapshot, Store } from '../directory/directory-store';
import { numberKey, sameNumber } from '../directory/phone-number';
import { ChangeListener, DatabaseUnavailableError } from '../storage/sql';
import { RouteResult } from './switchboard';
import { StoreUnderstanding } from './understanding';

/** What the registry reads of the directory database. */
export interface RegistryDirectory {
  listStores(): Promise<Store[]>;
  findStore(id: string): Promise<Store | undefined>;
  snapshot(storeId: string, version?: number): Promise<Snapshot>;
  /** The store a SIP user names: its id, or one of its numbers in any form. */
  resolveStore(user: string): Promise<Store | undefined>;
}

/** Stores' own prompt recordings, written into each store's prompts folder. */
export interface RegistryRecordings {
  digests(): Promise<Map<string, string>>;
  materialize(store: string): Promise<void>;
}

export interface RegistryDeps {
  directory: RegistryDirectory;
  /** Builds a store's understanding and loads its grammars where calls are heard (an empty store never gets here). */
  build: (snapshot: Snapshot, store: Store) => Promise<StoreUnderstanding>;
  recordings?: RegistryRecordings;
  log: Logger;
}

/**
 * The stores a node serves, as last read from the database, and what each one's callers are
 * heard with. Calls are routed from here (by store id or any form of one of its numbers), so
 * they go on while the database is away. A changed store is rebuilt while its calls use the
 * version held; a version that cannot be built is not tried again (it is "failed" until a
 * new one comes) and a store never built answers 'loading' (503). Changes come from this
 * node (`reload`), from PostgreSQL's notifications, and from `check`, run periodically.
 */
export class StoreRegistry {
  /** Every store's settings, as last read. */
  private readonly known = new Map<string, Store>();
  private readonly stores = new Map<string, StoreUnderstanding>();
  /** numberKey → store id. */
  private readonly numbers = new Map<string, string>();
  /** Stores whose current version could not be built, and that version. */
  private readonly failed = new Map<string, number>();
  /** The version each store's load read last: the one that failed, when a load fails. */
  private readonly tried = new Map<string, number>();
  private readonly loading = new Set<string>();
  /** A store changed again while it was loading: load it once more when that load ends. */
  private readonly changedAgain = new Set<string>();
  private recordingDigests = new Map<string, string>();
  private databaseUp = true;
  private readonly settled = new Set<Promise<void>>();

  constructor(private readonly deps: RegistryDeps) {}

  /** Reads every store and builds each; one that cannot be built does not keep the others from taking calls. */
  async start(): Promise<void> {
    for (const st of await this.deps.directory.listStores()) this.known.set(st.id, st);
    for (const id of [...this.known.keys()]) {
      await this.load(id).catch((err: unknown) => {
        this.failed.set(id, this.known.get(id)?.version ?? 0);
        this.deps.log.error(
          { store: id, version: this.known.get(id)?.version, err },
          'store grammar could not be built: its calls get 503 and /readyz says so until a new version is imported',
        );
      });
    }
  }

  get size(): number {
    return this.stores.size;
  }

  understandingOf(id: string): StoreUnderstanding | undefined {
    return this.stores.get(id);
  }

  understandings(): StoreUnderstanding[] {
    return [...this.stores.values()];
  }

  /** Stores this node serves that cannot take calls: their version could not be built, and none is held. */
  unusable(): string[] {
    return [...this.failed.keys()].filter((id) => this.known.has(id) && !this.stores.has(id));
  }

  /** Whether a SIP user names a store (its id or a number): shown in traces, where a caller's identity never is. */
  isStoreUser(user: string): boolean {
    return this.known.has(user) || this.storeOfNumber(user) !== undefined;
  }

  /** Makes a store's change live: loads it now, or once more after the load in progress. */
  reload(id: string, version?: number): void {
    if (this.loading.has(id)) {
      this.changedAgain.add(id);
      return;
    }
    if (version !== undefined && this.failed.get(id) === version) return;
    this.loading.add(id);
    const done = this.load(id)
      .catch((err: unknown) => {
        // The version that could not be built, not the one held (retried every check otherwise).
        const at = this.tried.get(id) ?? this.known.get(id)?.version;
        if (!(err instanceof DatabaseUnavailableError) && at !== undefined) this.failed.set(id, at);
        this.deps.log.error({ store: id, version: at, err }, 'store grammar could not be built; its calls keep the previous version');
      })
      .finally(() => {
        this.loading.delete(id);
        this.settled.delete(done);
        if (this.changedAgain.delete(id)) this.reload(id);
      });
    this.settled.add(done);
  }

  /** Resolves when no load is in progress (tests, and a clean stop). */
  async idle(): Promise<void> {
    while (this.settled.size > 0) await Promise.all([...this.settled]);
  }

  /** The store a call's Request-URI user is for; a promise when it must be looked up in the database. */
  route(user: string): RouteResult | Promise<RouteResult> {
    const id = this.known.has(user) ? user : this.storeOfNumber(user);
    const store = id === undefined ? undefined : this.known.get(id);
    if (store !== undefined) return this.routeKnown(store);
    // A store created a moment ago (the CLI, another node) is answered at once: an empty one
    // goes to its operator, one with a directory gets 503 until its grammar is built.
    return (async (): Promise<RouteResult> => {
      try {
        const found = await this.deps.directory.resolveStore(user);
        if (found === undefined) return undefined;
        if (!this.known.has(found.id)) {
          const empty = emptyStore(await this.deps.directory.snapshot(found.id, found.version));
          if (empty !== undefined && !this.stores.has(found.id)) this.hold(found, empty);
        }
        return this.routeKnown(this.known.get(found.id) ?? found);
      } catch (err) {
        // The database away: a store never seen here cannot be served by this node.
        this.deps.log.warn({ err }, 'a call for a store not held here could not be looked up');
        return 'loading';
      }
    })();
  }

  /**
   * Compares the database with what is held and reloads what changed (another process or
   * node, a missed notification), then syncs the prompt recordings. The database away: calls
   * go on with what is held, and this says so once.
   */
  async check(): Promise<void> {
    try {
      const now = await this.deps.directory.listStores();
      if (!this.databaseUp) this.deps.log.info('the database is back: changes are taken again');
      this.databaseUp = true;
      const ids = new Set(now.map((st) => st.id));
      for (const st of now) {
        if (this.stores.get(st.id)?.snapshot.version !== st.version || JSON.stringify(this.known.get(st.id)) !== JSON.stringify(st))
          this.reload(st.id, st.version);
      }
      for (const id of this.known.keys()) if (!ids.has(id)) this.reload(id);
      await this.syncRecordings();
    } catch (err) {
      if (this.databaseUp)
        this.deps.log.error({ err }, 'the database cannot be reached: calls go on with the directories held here, changes are refused');
      this.databaseUp = false;
    }
  }

  /**
   * Follows the database: its notifications (PostgreSQL; `listener` undefined on SQLite) and
   * a check every `everyMs` in case one was missed. The listener is started by the caller.
   */
  watch(listener: ChangeListener | undefined, everyMs: number, recordingsFailed: (err: Error) => void): { stop: () => Promise<void> } {
    let checking = false;
    const timer = setInterval(() => {
      if (checking) return;
      checking = true;
      void this.check().finally(() => (checking = false));
    }, everyMs);
    timer.unref();
    listener?.on('change', (id: string) => {
      this.reload(id);
      void this.syncRecordings(id).catch(recordingsFailed);
    });
    listener?.on('lost', (err: Error) =>
      this.deps.log.warn({ err }, 'lost the database notifications; reconnecting (changes are checked every 5 s meanwhile)'),
    );
    listener?.on('reconnected', () => {
      this.deps.log.info('database notifications back');
      void this.check();
    });
    return {
      stop: async () => {
        clearInterval(timer);
        await listener?.close();
      },
    };
  }

  /** Writes the stores' recordings whose digest changed (all of them the first time), or one store's. */
  async syncRecordings(only?: string): Promise<void> {
    const recordings = this.deps.recordings;
    if (recordings === undefined) return;
    if (only !== undefined) {
      await recordings.materialize(only);
      return;
    }
    const now = await recordings.digests();
    for (const id of new Set([...now.keys(), ...this.recordingDigests.keys()]))
      if (now.get(id) !== this.recordingDigests.get(id)) await recordings.materialize(id);
    this.recordingDigests = now;
  }

  private routeKnown(store: Store): RouteResult {
    const understanding = this.stores.get(store.id);
    if (understanding === undefined || understanding.snapshot.version !== store.version) this.reload(store.id);
    return understanding === undefined ? 'loading' : { store, understanding };
  }

  private storeOfNumber(user: string): string | undefined {
    for (const locale of new Set([...this.known.values()].map((st) => st.locale))) {
      const id = this.numbers.get(numberKey(user, locale));
      if (id !== undefined) return id;
    }
    return [...this.known.values()].find((st) => st.numbers.some((n) => sameNumber(user, n, st.locale)))?.id;
  }

  private hold(store: Store, understanding: StoreUnderstanding): void {
    this.stores.set(store.id, understanding);
    this.known.set(store.id, store);
    this.failed.delete(store.id);
    for (const [number, id] of this.numbers) if (id === store.id) this.numbers.delete(number);
    // By what each number stands for (E.164 in the store's country): a PBX may send any of its forms.
    for (const number of store.numbers) this.numbers.set(numberKey(number, store.locale), store.id);
  }

  private async load(storeId: string): Promise<void> {
    const store = await this.deps.directory.findStore(storeId);
    if (store === undefined) {
      // Deleted (here or on another node): its calls get 404 from now on.
      this.known.delete(storeId);
      this.stores.delete(storeId);
      this.tried.delete(storeId);
      for (const [number, id] of this.numbers) if (id === storeId) this.numbers.delete(number);
      this.deps.log.info({ store: storeId }, 'store deleted: it takes no more calls');
      return;
    }
    this.tried.set(storeId, store.version);
    const held = this.stores.get(storeId);
    // Nothing changed since the last load (a check and a notification for one change).
    if (held !== undefined && held.snapshot.version === store.version && JSON.stringify(this.known.get(storeId)) === JSON.stringify(store))
      return;
    const snapshot = await this.deps.directory.snapshot(storeId, store.version);
    const empty = emptyStore(snapshot);
    if (empty !== undefined) {
      this.hold(store, empty);
      this.deps.log.warn(
        { store: storeId, version: snapshot.version },
        'the store has no enabled directory entry: its calls go to the operator; import a directory (attendant directory import)',
      );
      return;
    }
    this.hold(store, await this.deps.build(snapshot, store));
  }
}

/** A store with no enabled entry needs no grammar: its calls are answered and sent to its operator. */
export function emptyStore(snapshot: Snapshot): StoreUnderstanding | undefined {
  return snapshot.entries.some((e) => e.enabled) ? undefined : StoreUnderstanding.empty(snapshot);
}
