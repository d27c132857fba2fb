import { CSV_COLUMNS, ParsedDirectory } from './directory-file';
import { DirectoryEntry, normalizeText } from './entry';

/**
 * A back office's weekly export imported over a directory that the store has fixed in the
 * console: what the store owns (a "se prononce" spelling, its aliases, whether an entry is
 * enabled) is kept wherever the file does not carry that column, and a person keeps their
 * identity when their extension changes. The file's own columns win where it has them.
 */

/** The fields a store edits in the console that back offices rarely export. */
export const STORE_FIELDS = ['sounds_like', 'aliases', 'enabled'] as const;
export type StoreField = (typeof STORE_FIELDS)[number];

export interface Reimport {
  entries: DirectoryEntry[];
  /** Per field: the store's values kept (the file did not carry the column) and those the file replaced. */
  kept: Record<StoreField, number>;
  replaced: Record<StoreField, number>;
}

/** Who an entry is, whatever its extension: its type and names. */
const identity = (e: DirectoryEntry): string =>
  [e.type, normalizeText(e.firstName), normalizeText(e.lastName), normalizeText(e.serviceName)].join('|');

const hasValue = (e: DirectoryEntry, field: StoreField): boolean =>
  field === 'sounds_like' ? (e.soundsLike ?? '') !== '' : field === 'aliases' ? e.aliases.length > 0 : !e.enabled;

const sameValue = (a: DirectoryEntry, b: DirectoryEntry, field: StoreField): boolean =>
  field === 'sounds_like'
    ? (a.soundsLike ?? '') === (b.soundsLike ?? '')
    : field === 'aliases'
      ? a.aliases.join('|') === b.aliases.join('|')
      : a.enabled === b.enabled;

/**
 * `incoming` as it should be stored over `current`. `carried`: the columns the file had;
 * `derivedIds`: its ids were made from name and extension (no id column), so an entry is
 * matched by who it is, and keeps its stored id, when exactly one stored entry is that person.
 */
export function mergeReimport(
  current: DirectoryEntry[],
  incoming: DirectoryEntry[],
  carried: ReadonlySet<string>,
  derivedIds: boolean,
): Reimport {
  const kept: Record<StoreField, number> = { sounds_like: 0, aliases: 0, enabled: 0 };
  const replaced: Record<StoreField, number> = { sounds_like: 0, aliases: 0, enabled: 0 };
  const byId = new Map(current.map((e) => [e.id, e]));
  const byIdentity = new Map<string, DirectoryEntry[]>();
  for (const e of current) byIdentity.set(identity(e), [...(byIdentity.get(identity(e)) ?? []), e]);
  const incomingIdentities = new Map<string, number>();
  for (const e of incoming) incomingIdentities.set(identity(e), (incomingIdentities.get(identity(e)) ?? 0) + 1);
  const taken = new Set<string>();
  const entries = incoming.map((entry) => {
    let before = byId.get(entry.id);
    if (before === undefined && derivedIds) {
      // One person of that name in the store and in the file: the same person, moved to another extension.
      const same = byIdentity.get(identity(entry)) ?? [];
      if (
        same.length === 1 &&
        incomingIdentities.get(identity(entry)) === 1 &&
        !taken.has(same[0].id) &&
        !incoming.some((x) => x.id === same[0].id)
      )
        before = same[0];
    }
    if (before === undefined || taken.has(before.id)) return entry;
    taken.add(before.id);
    const merged: DirectoryEntry = { ...entry, id: before.id };
    for (const field of STORE_FIELDS) {
      if (!carried.has(field)) {
        if (hasValue(before, field)) kept[field] += 1;
        if (field === 'sounds_like') {
          if (before.soundsLike !== undefined) merged.soundsLike = before.soundsLike;
          else delete merged.soundsLike;
        } else if (field === 'aliases') merged.aliases = before.aliases;
        else merged.enabled = before.enabled;
      } else if (hasValue(before, field) && !sameValue(before, entry, field)) replaced[field] += 1;
    }
    return merged;
  });
  return { entries, kept, replaced };
}

/** "2 pronunciations kept, 1 alias list replaced": what a re-import did with the store's own fields; '' when nothing. */
export function describeReimport(r: Pick<Reimport, 'kept' | 'replaced'>): string {
  const names: Record<StoreField, [string, string]> = {
    sounds_like: ['pronunciation', 'pronunciations'],
    aliases: ['alias list', 'alias lists'],
    enabled: ['disabled entry', 'disabled entries'],
  };
  const parts: string[] = [];
  for (const field of STORE_FIELDS) {
    const [one, many] = names[field];
    if (r.kept[field] > 0) parts.push(`${r.kept[field]} ${r.kept[field] === 1 ? one : many} kept`);
    if (r.replaced[field] > 0) parts.push(`${r.replaced[field]} ${r.replaced[field] === 1 ? one : many} replaced by the file`);
  }
  return parts.join(', ');
}

/** A parsed file over the store's current entries (every column counts as carried when the file does not say). */
export function reimportOver(current: DirectoryEntry[], parsed: Pick<ParsedDirectory, 'entries' | 'columns' | 'derivedIds'>): Reimport {
  return mergeReimport(current, parsed.entries, new Set(parsed.columns ?? CSV_COLUMNS), parsed.derivedIds === true);
}
