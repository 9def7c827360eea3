import { closeSync, openSync, readSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';

/**
 * One CSV record as read from a raw file. `raw` is the record's text without its line ending
 * (several physical lines when a quoted field holds line breaks); `line` is the 1-based physical
 * line where it starts. `malformed` records are not RFC 4180 (a quote inside an unquoted field,
 * text after a closing quote, an unterminated quote): their `fields` are meaningless.
 */
export interface CsvRecord {
  fields: string[];
  raw: string;
  line: number;
  malformed: boolean;
}

/** A quoted field longer than this is taken as an unterminated quote (memory stays bounded). */
export const MAX_RECORD_CHARS = 1 << 20;

/**
 * Streams the records of a CSV file with synchronous reads (meant for a worker thread): memory
 * holds one chunk plus one record, whatever the file size. Blank lines are not records.
 * The same splitting rules are in glue/price_rules.py (`split_records`).
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

/** Splits all records of an in-memory CSV text (tests, small files). */
export function splitCsvText(text: string): CsvRecord[] {
  const splitter = new CsvSplitter();
  return [...splitter.push(text), ...splitter.end('')];
}

/** Incremental RFC 4180 splitter: push text as it arrives, then end(). */
export class CsvSplitter {
  private buffer = '';
  private line = 1;

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
          yield { fields: raw.split(','), raw, line: startLine, malformed: false };
        }
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
    const record: CsvRecord = { fields, raw: buf.slice(start, contentEnd), line: this.line, malformed: false };
    this.line += lines + 1;
    return { record, next };
  }

  private malformed(buf: string, start: number, end: number, lines: number): { record: CsvRecord; next: number } {
    const contentEnd = end > start && buf.charCodeAt(end - 1) === 13 ? end - 1 : end;
    const raw = buf.slice(start, contentEnd);
    const record: CsvRecord = { fields: [], raw, line: this.line, malformed: true };
    let newlines = lines;
    if (newlines === 0) for (let k = raw.indexOf('\n'); k !== -1; k = raw.indexOf('\n', k + 1)) newlines++;
    this.line += newlines + 1;
    return { record, next: end < buf.length ? end + 1 : end };
  }
}
