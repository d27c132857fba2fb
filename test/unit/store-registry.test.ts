import pino from 'pino';
import { RegistryDirectory, StoreRegistry } from '../../src/attendant/store-registry';
import { StoreUnderstanding } from '../../src/attendant/understanding';
import { DEFAULT_SETTINGS, Snapshot, Store } from '../../src/directory/directory-store';
import { DirectoryEntry } from '../../src/directory/entry';
import { DatabaseUnavailableError } from '../../src/storage/sql';

const person = (id: string, enabled = true): DirectoryEntry => ({
  id,
  type: 'person',
  firstName: 'Anne',
  lastName: 'Le Gall',
  serviceName: '',
  department: '',
  extension: '4101',
  aliases: [],
  enabled,
});

/** An in-memory directory database, which can be taken away. */
class FakeDirectory implements RegistryDirectory {
  stores = new Map<string, { store: Store; entries: DirectoryEntry[] }>();
  down = false;

  put(id: string, version: number, entries: DirectoryEntry[], numbers: string[] = []): void {
    this.stores.set(id, { store: { ...DEFAULT_SETTINGS, id, name: id, numbers, createdAt: '2026-12-06', version }, entries });
  }

  private up(): void {
    if (this.down) throw new DatabaseUnavailableError('ECONNREFUSED');
  }

  async listStores(): Promise<Store[]> {
    this.up();
    return [...this.stores.values()].map((s) => ({ ...s.store }));
  }

  async findStore(id: string): Promise<Store | undefined> {
    this.up();
    const s = this.stores.get(id);
    return s && { ...s.store };
  }

  async snapshot(store: string, version?: number): Promise<Snapshot> {
    this.up();
    const s = this.stores.get(store)!;
    return { store, version: version ?? s.store.version, entries: s.entries };
  }

  async resolveStore(user: string): Promise<Store | undefined> {
    this.up();
    return [...this.stores.values()].find((s) => s.store.id === user || s.store.numbers.includes(user))?.store;
  }
}

function registry(directory: FakeDirectory, fail: (snapshot: Snapshot) => boolean = () => false) {
  const builds: string[] = [];
  const r = new StoreRegistry({
    directory,
    log: pino({ level: 'silent' }),
    // A stand-in for the grammar build: the real understanding of an empty store carries the snapshot.
    build: async (snapshot) => {
      builds.push(`${snapshot.store}@${snapshot.version}`);
      await new Promise((res) => setTimeout(res, 5));
      if (fail(snapshot)) throw new Error('grammar build failed');
      return StoreUnderstanding.empty(snapshot);
    },
  });
  return { r, builds };
}

const versionOf = async (r: StoreRegistry, user: string): Promise<number | string | undefined> => {
  const route = await r.route(user);
  return route === undefined || route === 'loading' ? route : route.understanding.snapshot.version;
};

describe('StoreRegistry', () => {
  it('routes by store id and by any form of a store number', async () => {
    const db = new FakeDirectory();
    db.put('brest-1', 3, [person('p1')], ['0298000000']);
    const { r } = registry(db);
    await r.start();
    expect(await versionOf(r, 'brest-1')).toBe(3);
    expect(await versionOf(r, '+33298000000')).toBe(3);
    expect(await versionOf(r, '298000000')).toBe(3);
    expect(r.isStoreUser('0298000000')).toBe(true);
    expect(r.isStoreUser('0612345678')).toBe(false);
    expect(await r.route('0612345678')).toBeUndefined();
  });

  it('a store whose grammar cannot be built is unusable and answers loading; the others take calls', async () => {
    const db = new FakeDirectory();
    db.put('brest-1', 1, [person('p1')]);
    db.put('quimper', 1, [person('p2')]);
    const { r } = registry(db, (s) => s.store === 'quimper');
    await r.start();
    expect(r.unusable()).toEqual(['quimper']);
    expect(await versionOf(r, 'brest-1')).toBe(1);
    expect(await versionOf(r, 'quimper')).toBe('loading');
  });

  it('keeps the version held while a new one builds, and does not try a failed version again', async () => {
    const db = new FakeDirectory();
    db.put('brest-1', 1, [person('p1')]);
    const { r, builds } = registry(db, (s) => s.version === 2);
    await r.start();
    db.put('brest-1', 2, [person('p1'), person('p2')]);
    await r.check();
    await r.idle();
    expect(await versionOf(r, 'brest-1')).toBe(1);
    await r.check();
    await r.idle();
    expect(builds.filter((b) => b === 'brest-1@2')).toHaveLength(1);
    db.put('brest-1', 3, [person('p1')]);
    await r.check();
    await r.idle();
    expect(await versionOf(r, 'brest-1')).toBe(3);
  });

  it('loads once more a store that changed while it was loading', async () => {
    const db = new FakeDirectory();
    db.put('brest-1', 1, [person('p1')]);
    const { r, builds } = registry(db);
    await r.start();
    db.put('brest-1', 2, [person('p1')]);
    r.reload('brest-1');
    db.put('brest-1', 3, [person('p1')]);
    r.reload('brest-1');
    await r.idle();
    expect(builds).toEqual(['brest-1@1', 'brest-1@2', 'brest-1@3']);
    expect(await versionOf(r, 'brest-1')).toBe(3);
  });

  it('a deleted store takes no more calls', async () => {
    const db = new FakeDirectory();
    db.put('brest-1', 1, [person('p1')], ['0298000000']);
    const { r } = registry(db);
    await r.start();
    db.stores.delete('brest-1');
    await r.check();
    await r.idle();
    expect(await r.route('brest-1')).toBeUndefined();
    expect(r.isStoreUser('0298000000')).toBe(false);
  });

  it('routes with what it holds while the database is away, and takes changes again when it is back', async () => {
    const db = new FakeDirectory();
    db.put('brest-1', 1, [person('p1')]);
    const { r } = registry(db);
    await r.start();
    db.down = true;
    await expect(r.check()).resolves.toBeUndefined();
    expect(await versionOf(r, 'brest-1')).toBe(1);
    // A store never seen here cannot be looked up: 'loading' (503), not 404.
    expect(await r.route('lorient')).toBe('loading');
    db.down = false;
    db.put('brest-1', 2, [person('p1')]);
    await r.check();
    await r.idle();
    expect(await versionOf(r, 'brest-1')).toBe(2);
  });

  it('answers at once a store created elsewhere with no enabled entry (its calls go to the operator)', async () => {
    const db = new FakeDirectory();
    const { r, builds } = registry(db);
    await r.start();
    db.put('lorient', 1, [person('p1', false)], ['0297000000']);
    const route = await r.route('0297000000');
    expect(route !== undefined && route !== 'loading' && route.store.id).toBe('lorient');
    expect(builds).toEqual([]);
  });

  it('syncs the recordings whose digest changed, and only those', async () => {
    const db = new FakeDirectory();
    const written: string[] = [];
    let digests = new Map([
      ['a', '1'],
      ['b', '1'],
    ]);
    const r = new StoreRegistry({
      directory: db,
      log: pino({ level: 'silent' }),
      build: async (s) => StoreUnderstanding.empty(s),
      recordings: { digests: async () => digests, materialize: async (id) => void written.push(id) },
    });
    await r.syncRecordings();
    digests = new Map([
      ['a', '2'],
      ['b', '1'],
    ]);
    await r.syncRecordings();
    expect(written).toEqual(['a', 'b', 'a']);
  });
});
