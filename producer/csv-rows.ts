import { open } from 'node:fs/promises';

/** One CSV row with the byte offset just past its line ending (a resume position). */
export interface CsvRow {
  fields: string[];
  end: number;
}

/**
 * Streams RFC 4180 rows from `path`, starting at byte `start` (which must be a row start),
 * in arrays of rows per read. Offsets are exact bytes, so a checkpoint can resume mid-file.
 * Quoted fields may hold commas, doubled quotes and line breaks; CRLF and LF both end a row.
 */
export async function* readCsvRows(path: string, start = 0, chunkBytes = 1 << 20): AsyncGenerator<CsvRow[]> {
  const handle = await open(path, 'r');
  try {
    let position = start;
    let carry: Buffer = Buffer.alloc(0);
    const buffer = Buffer.allocUnsafe(chunkBytes);
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, chunkBytes, position);
      const data = carry.length ? Buffer.concat([carry, buffer.subarray(0, bytesRead)]) : Buffer.from(buffer.subarray(0, bytesRead));
      const dataStart = position - carry.length;
      position += bytesRead;
      const rows: CsvRow[] = [];
      let rowStart = 0;
      let inQuotes = false;
      for (let i = 0; i < data.length; i++) {
        const byte = data[i];
        // The quote byte (0x22) never occurs inside a multi-byte UTF-8 sequence, so bytes are safe to scan.
        if (byte === 0x22) inQuotes = !inQuotes;
        else if (byte === 0x0a && !inQuotes) {
          if (i > rowStart) rows.push({ fields: parseCsvLine(data.toString('utf8', rowStart, i)), end: dataStart + i + 1 });
          rowStart = i + 1;
        }
      }
      if (bytesRead === 0) {
        if (rowStart < data.length && data.toString('utf8', rowStart).trim() !== '') {
          rows.push({ fields: parseCsvLine(data.toString('utf8', rowStart)), end: dataStart + data.length });
        }
        if (rows.length) yield rows;
        return;
      }
      carry = data.subarray(rowStart);
      if (rows.length) yield rows;
    }
  } finally {
    await handle.close();
  }
}

/** Splits one CSV record (without its final line ending) into fields. */
export function parseCsvLine(line: string): string[] {
  if (line.endsWith('\r')) line = line.slice(0, -1);
  if (!line.includes('"')) return line.split(',');
  const fields: string[] = [];
  let field = '';
  let inQuotes = false;
  for (let i = 0; i < line.length; i++) {
    const char = line[i];
    if (inQuotes) {
      if (char === '"') {
        if (line[i + 1] === '"') {
          field += '"';
          i++;
        } else inQuotes = false;
      } else field += char;
    } else if (char === '"') inQuotes = true;
    else if (char === ',') {
      fields.push(field);
      field = '';
    } else field += char;
  }
  fields.push(field);
  return fields;
}

/** The header row of a CSV file (BOM stripped), or [] for an empty file. */
export async function readCsvHeader(path: string): Promise<string[]> {
  for await (const rows of readCsvRows(path, 0, 64 * 1024)) {
    const header = rows[0]!.fields;
    if (header[0]) header[0] = header[0].replace(/^\uFEFF/, '');
    return header.map((name) => name.trim());
  }
  return [];
}
