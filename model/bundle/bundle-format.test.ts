import { describe, expect, it } from 'vitest';
import { gunzipSync, gzipSync } from 'node:zlib';
import { BundleError, decodeBundle, encodeBundle, type BundlePayload } from './bundle-format';

const payload: BundlePayload = {
  created_at: '2026-10-29T00:00:00.000Z',
  model: { version: 'm1' },
  products: [{ id: 'a', name: 'A', category: 'C', currency: 'EUR', price: 2, old_price: null, last_observed_at: '2026-10-28T00:00:00Z', features: [1], history: [['2026-10-28', 2]] }],
};

function tamper(bytes: Buffer, edit: (text: string) => string): Buffer {
  return gzipSync(Buffer.from(edit(gunzipSync(bytes).toString('utf8')), 'utf8'));
}

describe('bundle format', () => {
  it('round-trips a payload and exposes the header', () => {
    const { header, payload: back } = decodeBundle(encodeBundle(payload, 'm1').bytes);
    expect(header).toMatchObject({ format: 'pricedrop-bundle', format_version: 1, model_version: 'm1', products: 1 });
    expect(back).toEqual(payload);
  });

  it('refuses bytes that are not gzip, truncated, or not a bundle', () => {
    const good = encodeBundle(payload, 'm1').bytes;
    expect(() => decodeBundle(Buffer.from('hello'))).toThrow(BundleError);
    expect(() => decodeBundle(good.subarray(0, good.length - 10))).toThrow(/gzip/);
    expect(() => decodeBundle(gzipSync(Buffer.from('{"format":"other"}\n{}')))).toThrow(/not a PriceDrop model bundle/);
  });

  it('refuses an edited payload by its checksum, and a wrong format version', () => {
    const good = encodeBundle(payload, 'm1').bytes;
    expect(() => decodeBundle(tamper(good, (t) => t.replace('"price":2', '"price":3')))).toThrow(/checksum/);
    expect(() => decodeBundle(tamper(good, (t) => t.replace('"format_version":1', '"format_version":9')))).toThrow(/format version 9/);
  });

  it('refuses a payload whose products are malformed, even with a valid checksum', () => {
    const bad = structuredClone(payload) as unknown as { products: Record<string, unknown>[] };
    bad.products[0]!.price = 'free';
    expect(() => decodeBundle(encodeBundle(bad as unknown as BundlePayload, 'm1').bytes)).toThrow(/products\[0\]\.price/);
    const twice = { ...payload, products: [payload.products[0]!, payload.products[0]!] };
    expect(() => decodeBundle(encodeBundle(twice, 'm1').bytes)).toThrow(/appears twice/);
  });
});
