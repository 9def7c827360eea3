import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { BundleError, checkHistories, decodeBundle, decodeBundleAsync, encodeBundle, type BundleInput } from './bundle-format';

const input: BundleInput = {
  created_at: '2026-10-29T00:00:00.000Z',
  model: { version: 'm1' },
  products: [
    { id: 'a', name: 'A', category: 'C', currency: 'EUR', price: 2, old_price: null, last_observed_at: '2026-10-28T00:00:00Z', features: [1], history: [['2026-10-27', 2.5], ['2026-10-28', 2]] },
    { id: 'b', name: 'B\nwith a newline', category: 'C', currency: 'EUR', price: 3, old_price: 4, last_observed_at: '2026-10-28T00:00:00Z', features: [2], history: [] },
  ],
};

function tamper(bytes: Buffer, edit: (text: string) => string): Buffer {
  return gzipSync(Buffer.from(edit(gunzipSync(bytes).toString('utf8')), 'utf8'));
}

/** Re-signs an edited body, so only the structural checks can catch the edit. */
function resign(bytes: Buffer, edit: (body: string) => string): Buffer {
  const raw = gunzipSync(bytes).toString('utf8');
  const newline = raw.indexOf('\n');
  const header = JSON.parse(raw.slice(0, newline)) as Record<string, unknown>;
  const body = Buffer.from(edit(raw.slice(newline + 1)), 'utf8');
  header.sha256 = createHash('sha256').update(body).digest('hex');
  header.bytes = body.length;
  return gzipSync(Buffer.concat([Buffer.from(JSON.stringify(header) + '\n'), body]));
}

describe('bundle format', () => {
  it('round-trips products, the model and each history line, sync and async', async () => {
    const { bytes } = encodeBundle(input, 'm1');
    for (const decoded of [decodeBundle(bytes), await decodeBundleAsync(bytes)]) {
      expect(decoded.header).toMatchObject({ format: 'pricedrop-bundle', format_version: 2, model_version: 'm1', products: 2 });
      expect(decoded.payload.products).toEqual(input.products.map(({ history: _history, ...product }) => product));
      expect(decoded.payload.model).toEqual({ version: 'm1' });
      expect(decoded.histories.count).toBe(2);
      expect(JSON.parse(decoded.histories.text(0))).toEqual([['2026-10-27', 2.5], ['2026-10-28', 2]]);
      expect(decoded.histories.text(1)).toBe('[]');
      await expect(checkHistories(decoded.histories)).resolves.toBeUndefined();
    }
  });

  it('refuses bytes that are not gzip, truncated, or not a bundle', async () => {
    const { bytes } = encodeBundle(input, 'm1');
    expect(() => decodeBundle(Buffer.from('hello'))).toThrow(BundleError);
    expect(() => decodeBundle(bytes.subarray(0, bytes.length - 10))).toThrow(/gzip/);
    await expect(decodeBundleAsync(bytes.subarray(0, bytes.length - 10))).rejects.toThrow(/gzip/);
    expect(() => decodeBundle(gzipSync(Buffer.from('{"format":"other"}\n{}')))).toThrow(/not a PriceDrop model bundle/);
  });

  it('refuses an edited body by its checksum, and another format version', async () => {
    const { bytes } = encodeBundle(input, 'm1');
    expect(() => decodeBundle(tamper(bytes, (t) => t.replace('"price":2', '"price":3')))).toThrow(/checksum/);
    await expect(decodeBundleAsync(tamper(bytes, (t) => t.replace('2.5]', '1.5]')))).rejects.toThrow(/checksum/);
    expect(() => decodeBundle(tamper(bytes, (t) => t.replace('"format_version":2', '"format_version":1')))).toThrow(/format version 1/);
  });

  it('refuses malformed products and history lines even with a valid checksum', async () => {
    const { bytes } = encodeBundle(input, 'm1');
    expect(() => decodeBundle(resign(bytes, (b) => b.replace('"price":2', '"price":"free"')))).toThrow(/products\[0\]\.price/);
    expect(() => decodeBundle(resign(bytes, (b) => b.replace('"id":"b"', '"id":"a"')))).toThrow(/appears twice/);
    expect(() => decodeBundle(resign(bytes, (b) => b.replace(/\[\]\n$/, '')))).toThrow(/1 history lines for 2 products/);
    expect(() => decodeBundle(resign(bytes, (b) => b + '[]\n'))).toThrow(/more history lines/);
    const badLine = decodeBundle(resign(bytes, (b) => b.replace('["2026-10-28",2]', '["2026-10-28","two"]')));
    await expect(checkHistories(badLine.histories)).rejects.toThrow(/history line 1 is not a list of \[time, price\]/);
    const notJson = decodeBundle(resign(bytes, (b) => b.replace(/\[\]\n$/, '[oops\n')));
    await expect(checkHistories(notJson.histories)).rejects.toThrow(/history line 2 is not JSON/);
  });
});
