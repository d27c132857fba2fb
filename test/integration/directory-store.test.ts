import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DirectoryStore, KEPT_VERSIONS, StoreNotFoundError, VersionConflictError } from '../../src/directory/directory-store';
import { DirectoryEntry } from '../../src/directory/entry';

const entry = (id: string, lastName: string, extension: string): DirectoryEntry => ({
  id, type: 'person', firstName: '', lastName, serviceName: '', department: '', extension, aliases: [], enabled: true,
});
const cli = { via: 'cli', actor: 'test' };

describe('DirectoryStore (SQLite)', () => {
  let dir: string;
  let store: DirectoryStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'attendant-store-'));
    store = DirectoryStore.open(dir);
    store.createStore('s1', { operator: '9' });
  });
  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('numbers each import and counts what changed', () => {
    const v1 = store.replaceDirectory('s1', [entry('a', 'Martin', '1'), entry('b', 'Durand', '2')], cli);
    const v2 = store.replaceDirectory('s1', [entry('a', 'Martin', '11'), entry('c', 'Petit', '3')], cli);
    expect(v1).toMatchObject({ version: 1, added: 2, changed: 0, removed: 0 });
    expect(v2).toMatchObject({ version: 2, added: 1, changed: 1, removed: 1 });
    expect(store.snapshot('s1').entries.map((e) => e.id)).toEqual(['a', 'c']);
    expect(store.snapshot('s1', 1).entries.map((e) => e.extension)).toEqual(['1', '2']);
  });

  it('rolls back by making the old content a new version, and records it', () => {
    store.replaceDirectory('s1', [entry('a', 'Martin', '1')], cli);
    store.replaceDirectory('s1', [entry('b', 'Durand', '2')], cli);
    const info = store.rollback('s1', 1, cli);
    expect(info.version).toBe(3);
    expect(store.snapshot('s1').entries.map((e) => e.id)).toEqual(['a']);
    expect(store.history('s1').map((h) => h.action)).toEqual(['replace', 'replace', 'rollback to 1']);
    expect(store.listVersions('s1').find((v) => v.current)?.version).toBe(3);
  });

  it('refuses a stale expected version and changes nothing', () => {
    store.replaceDirectory('s1', [entry('a', 'Martin', '1')], cli);
    expect(() => store.replaceDirectory('s1', [entry('b', 'Durand', '2')], cli, 0)).toThrow(VersionConflictError);
    expect(store.snapshot('s1')).toMatchObject({ version: 1 });
  });

  it('keeps the last versions only', () => {
    for (let i = 0; i < KEPT_VERSIONS + 5; i += 1) store.replaceDirectory('s1', [entry('a', 'Martin', String(i))], cli);
    const versions = store.listVersions('s1');
    expect(versions).toHaveLength(KEPT_VERSIONS);
    expect(() => store.rollback('s1', 1, cli)).toThrow(/has no version 1; kept versions: 25, 24/);
  });

  it('keeps stores apart and finds a store by one of its numbers', () => {
    store.createStore('s2', { numbers: ['0142000000'] });
    store.replaceDirectory('s2', [entry('z', 'Zola', '9')], cli);
    expect(store.snapshot('s1').entries).toEqual([]);
    expect(store.resolveStore('0142000000')?.id).toBe('s2');
    expect(store.resolveStore('0000')).toBeUndefined();
  });

  it('says how to create a store that does not exist', () => {
    expect(() => store.snapshot('nope')).toThrow(StoreNotFoundError);
    expect(() => store.snapshot('nope')).toThrow(/attendant store create nope/);
  });

  it('is durable: a second connection sees the committed version', () => {
    store.replaceDirectory('s1', [entry('a', 'Martin', '1')], cli);
    const other = DirectoryStore.open(dir);
    expect(other.snapshot('s1').entries).toHaveLength(1);
    other.close();
  });
});
