import { constants } from 'node:fs';
import { crc32 } from 'node:zlib';
import { asciiJson } from './asciiJson';

/**
 * The line format of the store's append-only files (a tenant's users log, the main file's journal):
 * `<crc32 in 8 hex digits> <json>\n`, the JSON in ASCII alone (see asciiJson). A crash in the middle of an
 * append leaves a last line that is incomplete or fails its CRC; any other line that fails is damage.
 */

/** Where the platform has it, a write returns once its data is on disk, which spares an fsync call. */
export const SYNCHRONOUS_APPENDS = constants.O_DSYNC !== undefined;
/** How these files are opened to be appended to: each write synchronous where the platform can. */
export const APPEND_FLAGS = constants.O_WRONLY | constants.O_APPEND | (constants.O_DSYNC ?? 0);

const NEWLINE = 0x0a;
const SPACE = 0x20;
/** Eight hex digits of CRC and a space. */
const CRC_PREFIX_BYTES = 9;

/**
 * The line of a value, as bytes. The JSON is made once and written once, straight into the line's buffer:
 * a page of a first sync is a record of tens of kilobytes, and copies of it (the CRC's own, the line's, the
 * bytes for the disk) were a large share of a sync's garbage.
 */
export function encodeCheckedLine(value: unknown): Buffer {
  // ASCII alone, so a character is a byte.
  const json = asciiJson.stringify(value);
  const jsonBytes = json.length;
  const line = Buffer.allocUnsafe(CRC_PREFIX_BYTES + jsonBytes + 1);
  line.write(json, CRC_PREFIX_BYTES, 'latin1');
  line.write(crc32(line.subarray(CRC_PREFIX_BYTES, CRC_PREFIX_BYTES + jsonBytes)).toString(16).padStart(8, '0'), 0, 'latin1');
  line[CRC_PREFIX_BYTES - 1] = SPACE;
  line[line.length - 1] = NEWLINE;
  return line;
}

/** The value of the line in `bytes[start, end)`, or undefined when it is incomplete or damaged. */
function decodeCheckedLine(bytes: Buffer, start: number, end: number): unknown {
  if (end - start < CRC_PREFIX_BYTES + 1 || bytes[start + CRC_PREFIX_BYTES - 1] !== SPACE) return undefined;
  const json = bytes.subarray(start + CRC_PREFIX_BYTES, end);
  // The CRC of the line's bytes, as encodeCheckedLine makes it (earlier versions wrote UTF-8: the same rule).
  if (Number.parseInt(bytes.toString('latin1', start, start + CRC_PREFIX_BYTES - 1), 16) !== crc32(json)) return undefined;
  try {
    return JSON.parse(asciiJson.text(json)) as unknown;
  } catch {
    return undefined;
  }
}

/** A file's whole lines, decoded, and where the last of them ends: what follows is a torn tail. */
export interface CheckedLines {
  values: unknown[];
  validBytes: number;
}

/**
 * Decodes every whole line of a file. A last line that fails is a torn append, left out (with whatever
 * follows the last newline); a line before it that fails is damage, which `damaged` is told of (with its
 * line number from 1) and must throw.
 */
export function readCheckedLines(bytes: Buffer, damaged: (line: number) => never): CheckedLines {
  const values: unknown[] = [];
  let validBytes = 0;
  for (let start = 0, index = 0, end = bytes.indexOf(NEWLINE); end >= 0; start = end + 1, index++, end = bytes.indexOf(NEWLINE, start)) {
    const value = decodeCheckedLine(bytes, start, end);
    if (value === undefined) {
      if (end === bytes.length - 1) break; // a torn final record that ended in a newline
      damaged(index + 1);
    }
    values.push(value);
    validBytes = end + 1;
  }
  return { values, validBytes };
}
