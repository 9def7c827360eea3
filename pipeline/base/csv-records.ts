import { closeSync, openSync, readSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';

/**
 * The one RFC 4180 reader: the ETL and the history import read records with it, the producer's
 * replay reads batches with resumable byte offsets. Quoted fields may hold commas, doubled quotes
 * and line breaks; CRLF and LF both end a record; blank lines are not records.
 * The same splitting rules are in glue/price_rules.py (`split_records`).
 */

/**
 * One CSV record as read from a file. `raw` is the record's text without its line ending
 * (several physical lines when a quoted field holds line breaks); `line` is the 1-based physical
 * line where it starts (counted from where reading started). `end` is the byte offset just past
 * the record's line ending, a position to resume from; it counts the UTF-8 bytes of the decoded
 * text, so it is exact for UTF-8 files (readCsvRecordBatches refuses any other).
 * `malformed` records are not RFC 4180 (a quote inside an unquoted field, text after a closing
 * quote, an unterminated quote): their `fields` are meaningless.
 */
export interface CsvRecord {
  fields: string[];
  raw: string;
  line: number;
  end: number;
  malformed: boolean;
}

/** A quoted field longer than this is taken as an unterminated quote (memory stays bounded). */
const MAX_RECORD_CHARS = 1 << 20;

/**
 * Streams the records of a CSV file with synchronous reads (meant for a worker thread): memory
 * holds one chunk plus one record, whatever the file size.
 */
export function* readCsvRecords(file: string, chunkBytes = 1 << 20): Generator<CsvRecord> {
  const fd = openSync(file, 'r');
  try {
    const decoder = new StringDecoder('utf8');
    const chunk = Buffer.allocUnsafe(chunkBytes);
    const splitter = new CsvSplitter();
    for (;;) {
      const n = readSync(fd, chunk, 0, chunkBytes, null);
      if (n === 0) break;
      yield* splitter.push(decoder.write(chunk.subarray(0, n)));
    }
    yield* splitter.end(decoder.end());
  } finally {
    closeSync(fd);
  }
}

/**
 * Streams the records of a UTF-8 CSV file from byte `start` (which must be a record start), one
 * array per read, without blocking the event loop (the producer's replay resumes from `end`).
 * Throws on bytes that are not UTF-8: decoding them would make the offsets wrong, and a resume
 * would then land inside a record.
 */
export async function* readCsvRecordBatches(path: string, start = 0, chunkBytes = 1 << 20): AsyncGenerator<CsvRecord[]> {
  const handle = await open(path, 'r');
  try {
    const splitter = new CsvSplitter(start);
    // Streaming: a sequence cut at the end of a read is completed by the next; fatal: bytes that
    // are not UTF-8 throw; ignoreBOM: a BOM stays in the text, so its bytes count in `end`.
    const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
    const chunk = Buffer.allocUnsafe(chunkBytes);
    let position = start;
    for (;;) {
      const { bytesRead } = await handle.read(chunk, 0, chunkBytes, position);
      const eof = bytesRead === 0;
      let text: string;
      try {
        text = decoder.decode(chunk.subarray(0, bytesRead), { stream: !eof });
      } catch {
        throw new Error(`${path}: not UTF-8 between bytes ${Math.max(start, position - 3)} and ${position + bytesRead}`);
      }
      position += bytesRead;
      const records = eof ? [...splitter.end(text)] : [...splitter.push(text)];
      if (records.length) yield records;
      if (eof) return;
    }
  } finally {
    await handle.close();
  }
}

/** The first record of a CSV file (its header), or [] for an empty file. */
export function readCsvHeader(file: string): string[] {
  for (const record of readCsvRecords(file, 64 * 1024)) return record.fields;
  return [];
}

/** Splits all records of an in-memory CSV text (tests, small files). */
export function splitCsvText(text: string): CsvRecord[] {
  const splitter = new CsvSplitter();
  return [...splitter.push(text), ...splitter.end('')];
}

/** Incremental RFC 4180 splitter: push text as it arrives, then end(). */
class CsvSplitter {
  private buffer = '';
  private line = 1;

  /** @param bytes the byte offset of the first text pushed (records' `end` counts from it). */
  constructor(private bytes = 0) {}

  *push(text: string): Generator<CsvRecord> {
    this.buffer = this.buffer.length === 0 ? text : this.buffer + text;
    yield* this.drain(false);
  }

  *end(text: string): Generator<CsvRecord> {
    this.buffer += text;
    yield* this.drain(true);
  }

  private *drain(eof: boolean): Generator<CsvRecord> {
    const buf = this.buffer;
    let pos = 0;
    const length = buf.length;
    while (pos < length) {
      const newline = buf.indexOf('\n', pos);
      if (newline === -1 && !eof) break;
      const lineEnd = newline === -1 ? length : newline;
      const quote = buf.indexOf('"', pos);
      if (quote === -1 || quote >= lineEnd) {
        // Fast path: no quote on this physical line, so the record is the line.
        const contentEnd = lineEnd > pos && buf.charCodeAt(lineEnd - 1) === 13 ? lineEnd - 1 : lineEnd;
        const startLine = this.line;
        this.line++;
        const next = newline === -1 ? length : newline + 1;
        if (contentEnd > pos) {
          const raw = buf.slice(pos, contentEnd);
          this.bytes += Buffer.byteLength(raw) + next - contentEnd; // line endings are ASCII
          yield { fields: raw.split(','), raw, line: startLine, end: this.bytes, malformed: false };
        } else this.bytes += next - pos; // a blank line
        pos = next;
        continue;
      }
      const record = this.slowRecord(buf, pos, eof);
      if (record === undefined) break;
      pos = record.next;
      yield record.record;
    }
    this.buffer = pos >= length ? '' : buf.slice(pos);
  }

  /** Quote-aware scan of one record from `start`; undefined when more text is needed. */
  private slowRecord(buf: string, start: number, eof: boolean): { record: CsvRecord; next: number } | undefined {
    const fields: string[] = [];
    let field = '';
    let i = start;
    let lines = 0;
    let malformedAt: number;
    const length = buf.length;
    let fieldStart = true;
    let quoted = false;
    for (;;) {
      if (i >= length) {
        if (!eof) {
          if (i - start > MAX_RECORD_CHARS) {
            const nl = buf.indexOf('\n', start);
            return this.malformed(buf, start, nl === -1 ? length : nl, 0);
          }
          return undefined;
        }
        if (quoted) return this.malformed(buf, start, length, lines); // unterminated quote at end of file
        fields.push(field);
        return this.finish(buf, start, length, length, fields, lines);
      }
      const c = buf.charCodeAt(i);
      if (quoted) {
        if (c === 34) {
          if (buf.charCodeAt(i + 1) === 34) {
            field += '"';
            i += 2;
            continue;
          }
          if (i + 1 >= length && !eof) return undefined; // the next char decides
          quoted = false;
          i++;
          const after = i < length ? buf.charCodeAt(i) : -1;
          if (after !== 44 && after !== 10 && after !== 13 && after !== -1) {
            malformedAt = i;
            break;
          }
          continue;
        }
        if (c === 10) lines++;
        field += buf[i];
        i++;
        if (i - start > MAX_RECORD_CHARS) {
          const nl = buf.indexOf('\n', start);
          if (nl === -1 && !eof) return undefined;
          return this.malformed(buf, start, nl === -1 ? length : nl, 0);
        }
        continue;
      }
      if (c === 34) {
        if (!fieldStart) {
          malformedAt = i;
          break;
        }
        quoted = true;
        fieldStart = false;
        i++;
        continue;
      }
      if (c === 44) {
        fields.push(field);
        field = '';
        fieldStart = true;
        i++;
        continue;
      }
      if (c === 10 || (c === 13 && buf.charCodeAt(i + 1) === 10)) {
        fields.push(field);
        const contentEnd = i;
        const next = c === 13 ? i + 2 : i + 1;
        return this.finish(buf, start, contentEnd, next, fields, lines);
      }
      if (c === 13 && i + 1 >= length && !eof) return undefined;
      field += buf[i];
      fieldStart = false;
      i++;
    }
    // Malformed: the record runs to the end of the physical line holding the error.
    const nl = buf.indexOf('\n', malformedAt);
    if (nl === -1 && !eof) return undefined;
    return this.malformed(buf, start, nl === -1 ? length : nl, lines);
  }

  private finish(buf: string, start: number, contentEnd: number, next: number, fields: string[], lines: number): { record: CsvRecord; next: number } {
    const raw = buf.slice(start, contentEnd);
    this.bytes += Buffer.byteLength(raw) + next - contentEnd;
    const record: CsvRecord = { fields, raw, line: this.line, end: this.bytes, malformed: false };
    this.line += lines + 1;
    return { record, next };
  }

  private malformed(buf: string, start: number, end: number, lines: number): { record: CsvRecord; next: number } {
    const contentEnd = end > start && buf.charCodeAt(end - 1) === 13 ? end - 1 : end;
    const raw = buf.slice(start, contentEnd);
    const next = end < buf.length ? end + 1 : end;
    this.bytes += Buffer.byteLength(raw) + next - contentEnd;
    const record: CsvRecord = { fields: [], raw, line: this.line, end: this.bytes, malformed: true };
    let newlines = lines;
    if (newlines === 0) for (let k = raw.indexOf('\n'); k !== -1; k = raw.indexOf('\n', k + 1)) newlines++;
    this.line += newlines + 1;
    return { record, next };
  }
}
