import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readDirectory } from '../directory/directory-file';
import { DirectoryStore, Store, StoreExistsError } from '../directory/directory-store';

/** The demo store that `attendant serve` and the README's examples use until stores of one's own exist. */
export const DEMO_STORE = 'demo';
export const DEMO_DIRECTORY = join(__dirname, '..', '..', '..', 'directory-fixtures', 'demo-store.csv');

/** Creates the demo store from directory-fixtures/ when it does not exist yet. Returns true if it did. */
export async function ensureDemoStore(store: DirectoryStore, file = DEMO_DIRECTORY): Promise<boolean> {
  if ((await store.findStore(DEMO_STORE)) !== undefined) return false;
  const parsed = readDirectory(readFileSync(file), file);
  try {
    await store.createStore(DEMO_STORE, {
      name: 'Demo store (directory-fixtures)',
      numbers: ['0100000000'],
      operator: '9',
      locale: 'fr-FR',
    });
  } catch (err) {
    // Another node starting at the same time created it first.
    if (err instanceof StoreExistsError) return false;
    throw err;
  }
  await store.replaceDirectory(DEMO_STORE, parsed.entries, { via: 'fixture', actor: 'attendant' });
  return true;
}

export async function openStore(storeId: string, store: DirectoryStore): Promise<Store> {
  if (storeId === DEMO_STORE) await ensureDemoStore(store);
  return store.getStore(storeId);
}
