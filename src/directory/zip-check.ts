import { inflateRawSync } from 'node:zlib';

/**
 * What a ZIP archive (every .xlsx) really unpacks to, by inflating each entry with a bound,
 * whatever sizes its headers write: a workbook whose headers say 1,000 bytes while its sheet
 * inflates to 5 GiB is refused after `limit` bytes, not after the memory is gone.
 */
export interface ZipCheck {
  ok: boolean;
  /** Bytes inflated (at most `limit` + 1 when over). */
  inflated: number;
  entries: number;
  /** Why the archive is refused. */
  problem?: string;
}

const LOCAL = 0x04034b50;
const CENTRAL = 0x02014b50;
const END = 0x06054b50;
/** A workbook has a few dozen parts; an archive of many thousands is not one. */
const MAX_ENTRIES = 10_000;

export function checkZip(bytes: Uint8Array, limit: number): ZipCheck {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let end = -1;
  for (let i = view.length - 22; i >= Math.max(0, view.length - 22 - 65_535); i -= 1) {
    if (view.readUInt32LE(i) === END) {
      end = i;
      break;
    }
  }
  const damaged = (why: string): ZipCheck => ({
    ok: false,
    inflated: 0,
    entries: 0,
    problem: `this Excel file is damaged or cut short (${why}); export it again`,
  });
  if (end < 0) return damaged('no ZIP directory');
  // The entry count written in the end record is not trusted either: the directory is walked to its end.
  const dirStart = view.readUInt32LE(end + 16);
  if (dirStart >= end) return damaged('its ZIP directory is out of place');
  let at = dirStart;
  let inflated = 0;
  let entries = 0;
  while (at < end) {
    if (at + 46 > end || view.readUInt32LE(at) !== CENTRAL) return damaged('its ZIP directory is broken');
    entries += 1;
    if (entries > MAX_ENTRIES)
      return { ok: false, inflated, entries, problem: `this file holds more than ${MAX_ENTRIES} parts; it is not an Excel workbook` };
    const method = view.readUInt16LE(at + 10);
    const compressed = view.readUInt32LE(at + 20);
    const local = view.readUInt32LE(at + 42);
    at += 46 + view.readUInt16LE(at + 28) + view.readUInt16LE(at + 30) + view.readUInt16LE(at + 32);
    if (local + 30 > view.length || view.readUInt32LE(local) !== LOCAL) return damaged('a part is missing');
    const dataStart = local + 30 + view.readUInt16LE(local + 26) + view.readUInt16LE(local + 28);
    // The size written may lie: the data runs at most to the directory.
    const data = view.subarray(dataStart, Math.min(dirStart, dataStart + compressed));
    if (method === 0) inflated += data.length;
    else if (method === 8) {
      try {
        inflated += inflateRawSync(data, { maxOutputLength: Math.max(1, limit - inflated + 1) }).length;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) inflated = limit + 1;
        else return damaged('a part cannot be unpacked');
      }
    } else
      return {
        ok: false,
        inflated,
        entries,
        problem: `this Excel file uses a compression (method ${method}) Excel does not write; export it again as .xlsx`,
      };
    if (inflated > limit) {
      return {
        ok: false,
        inflated,
        entries,
        problem: `this Excel file unpacks to more than ${Math.round(limit / 1024 / 1024)} MB; a directory's sheet is far smaller: export only the directory's columns`,
      };
    }
  }
  return { ok: true, inflated, entries };
}
