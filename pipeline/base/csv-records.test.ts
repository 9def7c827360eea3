import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readCsvHeader, readCsvRecordBatches, readCsvRecords, splitCsvText, type CsvRecord } from './csv-records';

const folders: string[] = [];
afterEach(() => {
  for (const dir of folders.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function csvFile(content: string | Buffer): string {
  const dir = mkdtempSync(join(tmpdir(), 'pricedrop-csv-'));
  folders.push(dir);
  const file = join(dir, 'x.csv');
  writeFileSync(file, content);
  return file;
}

async function batches(file: string, start?: number, chunkBytes?: number): Promise<CsvRecord[]> {
  const records: CsvRecord[] = [];
  for await (const chunk of readCsvRecordBatches(file, start, chunkBytes)) records.push(...chunk);
  return records;
}

describe('the CSV reader', () => {
  it('splits quoted commas', () => {
    expect(splitCsvText('a,"b,c"')[0]?.fields).toEqual(['a', 'b,c']);
  });

  it('reads CSV rows with exact byte offsets, quoted line breaks and multi-byte text', async () => {
    const file = csvFile('a,b\r\n"é, ü","line\nbreak"\r\nlast,row');
    const rows = await batches(file, 0, 7);
    expect(rows.map((row) => row.fields)).toEqual([['a', 'b'], ['é, ü', 'line\nbreak'], ['last', 'row']]);
    const resumed = await batches(file, rows[1]!.end);
    expect(resumed.map((row) => row.fields)).toEqual([['last', 'row']]);
  });

  it('gives every record the byte offset past its line ending, blank lines and malformed records included', async () => {
    const text = 'h1,h2\n\r\n"x""y",ü\r\n\nbad"quote,z\n"€","multi\r\nline"\nlast';
    const file = csvFile(text);
    const bytes = Buffer.from(text);
    for (const chunkBytes of [1, 2, 3, 5, 1 << 20]) {
      const records = await batches(file, 0, chunkBytes);
      expect(records.map((record) => record.malformed)).toEqual([false, false, true, false, false]);
      expect(records.map((record) => record.raw)).toEqual(['h1,h2', '"x""y",ü', 'bad"quote,z', '"€","multi\r\nline"', 'last']);
      // Each offset is just past the record's own line ending (a blank line after it is not part of it).
      const ends = records.map((record) => record.end);
      expect(ends).toEqual([bytes.indexOf('\n') + 1, bytes.indexOf('\n\nbad') + 1, bytes.indexOf('"€"'), bytes.indexOf('last'), bytes.length]);
      // Resuming at any offset reads the rest, the same as the synchronous reader.
      for (const [i, end] of ends.entries()) expect((await batches(file, end)).map((record) => record.raw)).toEqual(records.slice(i + 1).map((record) => record.raw));
    }
    expect([...readCsvRecords(file, 4)].map((record) => [record.raw, record.end, record.line])).toEqual(
      (await batches(file)).map((record) => [record.raw, record.end, record.line]),
    );
  });

  it('refuses bytes that are not UTF-8 when offsets matter (a resume would land inside a record)', async () => {
    const file = csvFile(Buffer.concat([Buffer.from('name,price\ncaf'), Buffer.from([0xe9]), Buffer.from(',3\n')]));
    await expect(batches(file)).rejects.toThrow(/not UTF-8/);
  });

  it('reads the header, or nothing from an empty file', () => {
    expect(readCsvHeader(csvFile('\uFEFFid,"price, EUR"\r\n1,2\r\n'))).toEqual(['\uFEFFid', 'price, EUR']);
    expect(readCsvHeader(csvFile(''))).toEqual([]);
  });
});
