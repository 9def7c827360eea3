import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../support/cli-process';
import { rssMb, sendRawBytes, sendRequest, type FuzzRequest } from '../support/http-fuzz';
import { createRandom } from '../../model/forest/random-forest';
import { FEATURE_NAMES } from '../../model/features';
import { buildFixtureBundle } from './fixture-bundle';

/**
 * Thousands of malformed requests against the bundled server process: every answer is a 4xx (or a
 * 2xx for the valid ones among them), the process never dies, and its resident memory stays flat
 * from round to round. Bounded: ROUNDS × PER_ROUND requests, 16 at a time, on loopback only.
 */
const ROUNDS = 8;
const PER_ROUND = 1200;
const RAW_PER_ROUND = 100;
const CONCURRENCY = 16;
const API_KEY = 'fuzz-key-0123456789abcdef';

type Shot = FuzzRequest;

function generator(seed: number) {
  const random = createRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const int = (max: number) => Math.floor(random() * max);
  const junk = (length: number) => Buffer.from(Array.from({ length }, () => int(256)));
  const text = (length: number) => Array.from({ length }, () => String.fromCharCode(pick([int(128), 0x20 + int(95), 0x80 + int(0x700), 0xd800 + int(0x800), 0x1f600]))).join('');
  const enc = (s: string) => {
    try {
      return encodeURIComponent(s);
    } catch {
      return '%ED%A0%80'; // a lone surrogate cannot be encoded: send its broken UTF-8
    }
  };
  const paths = ['/health', '/api/products', '/api/products/coffee-1kg', '/api/predict', '/api/model', '/', '/app.js', '/vendor/echarts.min.js'];
  const pathMutations: (() => string)[] = [
    () => pick(paths),
    () => pick(paths) + '/' + enc(text(int(20))),
    () => '/api/products/' + enc(text(1 + int(40))),
    () => '/api/products/' + '%'.repeat(1 + int(3)) + pick(['', 'G1', 'zz', 'E0%A4']),
    () => '/api/products?q=' + enc(text(int(150))) + (random() < 0.3 ? '&limit=' + pick(['0', '-1', '1e3', '51', 'NaN', '', '20', '٣']) : ''),
    () => '/api/products?' + pick(['q', 'Q', 'q[]', '__proto__', 'constructor', '']) + '=' + pick(['a', '%', '%%', '+', '']) + pick(['', '&q=b', '&&', '&=x']),
    () => pick(['/../../etc/passwd', '/%2e%2e/%2e%2e/package.json', '//api/model', '/api//predict', '/API/MODEL', '/api', '/api/', '/.env', '/index.html%00.js', '/vendor/../app.js', '/public/app.js']),
    () => '/api/products/' + 'x'.repeat(150 + int(100)),
    () => '/' + 'a/'.repeat(int(1100)),
  ];
  const validPredict = () => JSON.stringify({ product_id: pick(['coffee-1kg', 'tea-100', 'p0004', 'nope']) });
  const bodies: (() => Buffer)[] = [
    () => Buffer.from(validPredict()),
    () => {
      const valid = validPredict();
      return Buffer.from(valid.slice(0, int(valid.length)));
    },
    () => {
      const chars = validPredict().split('');
      chars[int(chars.length)] = String.fromCharCode(int(128));
      return Buffer.from(chars.join(''));
    },
    () => junk(int(300)),
    () => Buffer.from('['.repeat(5000 + int(9000))),
    () => Buffer.from(JSON.stringify(pick<unknown>([null, 1, 'x', [], true, {}, { product_id: null }, { product_id: 12 }, { product_id: ['a'] }, { product_id: { toString: 1 } }, { product_id: '' }]))),
    () => Buffer.from(pick(['{"__proto__":{"polluted":1}}', '{"constructor":{"prototype":{"x":1}}}', '{"features":{"__proto__":1}}', '{"features":{"constructor":1}}', '{"product_id":"a","product_id":"b"}'])),
    () => Buffer.from(JSON.stringify({ features: Object.fromEntries(FEATURE_NAMES.map((name) => [name, pick<unknown>([1, -1, 0, 1e308, -1e308, 'NaN', null, [], {}, 2.5])])) })),
    () => Buffer.from(JSON.stringify({ features: Object.fromEntries(Array.from({ length: int(400) }, (_, i) => [`f${i}`, i])) })),
    () => Buffer.from(JSON.stringify({ product_id: text(int(400)) })),
    () => Buffer.from('{"product_id":"' + 'a'.repeat(17_000) + '"}'),
    () => Buffer.from([0xef, 0xbb, 0xbf, ...Buffer.from(validPredict())]),
  ];
  const contentTypes = ['application/json', 'application/json; charset=utf-8', 'APPLICATION/JSON', 'text/plain', 'application/jsonx', 'multipart/form-data; boundary=x', '', 'application/json;;;', '\u00e9'];

  function shot(): Shot {
    const method = random() < 0.85 ? pick(['GET', 'POST', 'POST', 'HEAD', 'OPTIONS']) : pick(['PUT', 'DELETE', 'PATCH', 'TRACE', 'PROPFIND', 'FOO']);
    const headers: Record<string, string> = {};
    if (random() < 0.8) headers['X-API-Key'] = API_KEY;
    else if (random() < 0.5) headers['X-API-Key'] = pick(['', 'wrong', API_KEY.slice(0, -1), API_KEY + ' ', 'x'.repeat(4000)]);
    if (random() < 0.2) headers.Origin = pick(['https://evil.example', 'null', 'http://127.0.0.1', '']);
    if (random() < 0.1) headers['Accept-Encoding'] = pick(['gzip', 'br', '*', 'gzip;q=0']);
    // Many distinct clients for the rate limiter (--trust-proxy): its buckets must stay bounded.
    if (random() < 0.9) headers['X-Forwarded-For'] = pick(['', ',', ' , ', '::1', 'x'.repeat(300), `10.${int(256)}.${int(256)}.${int(256)}`, `a, b, 192.168.${int(256)}.${int(256)}`]);
    let body: Buffer | undefined;
    if (method === 'POST' || random() < 0.1) {
      body = pick(bodies)();
      const type = pick(contentTypes);
      if (type !== '') headers['Content-Type'] = type;
    }
    // Node's client sends only printable ASCII paths; rawBytes() covers everything else.
    const path = method === 'POST' && random() < 0.6 ? '/api/predict' : pick(pathMutations)();
    return { method, path: path.replace(/[^\u0021-\u007e]/g, (c) => '%' + (c.charCodeAt(0) & 0xff).toString(16).padStart(2, '0')), headers, body };
  }

  /** Bytes no HTTP client library would send. */
  function rawBytes(): Buffer {
    return pick<() => Buffer>([
      () => junk(1 + int(500)),
      () => Buffer.from(`GET ${pick(['/', '*', 'http://x/', '/health'])} HTTP/${pick(['1.1', '1.0', '0.9', '2.0', '9.9', 'x'])}\r\nHost: x\r\n\r\n`),
      () => Buffer.from(`POST /api/predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${pick(['-1', 'abc', '99999999999999999999', '5, 6', ''])}\r\n\r\n{"product_id":"tea-100"}`),
      () => Buffer.from(`POST /api/predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`),
      () => Buffer.from(`POST /api/predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n${pick(['ffffffffffff', 'g', '-1', '3\r\nabcdef'])}\r\n`),
      () => Buffer.from(`GET /health HTTP/1.1\r\n${pick(['Bad Header', ': empty', 'X: \u0000', 'Host: a\r\nHost: b', 'X-' + 'a'.repeat(9000) + ': 1'])}\r\n\r\n`),
      () => Buffer.from('GET /health HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(1 + int(30))),
      () => Buffer.from(`GET /${'a'.repeat(int(70_000))} HTTP/1.1\r\nHost: x\r\n\r\n`),
    ])();
  }
  return { shot, rawBytes };
}

describe('fuzzing the server with malformed requests', () => {
  let child: ChildProcess;
  let port = 0;
  let out = '';
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });

  beforeAll(async () => {
    const serverDir = mkdtempSync(join(tmpdir(), 'pricedrop-fuzz-build-'));
    const build = spawnSync(process.execPath, [join(REPO_ROOT, 'build/server/build-server.mjs'), serverDir], { encoding: 'utf8' });
    expect(build.status, build.stderr).toBe(0);
    const fixture = await buildFixtureBundle();
    // A capped heap makes "memory flat" testable from outside: V8 otherwise grows the heap lazily
    // (RSS rose 75 → 106 MB over 12 rounds uncapped, then levelled off); capped at 48 MB old space a
    // leak crashes the process or shows as RSS growth, while a healthy server levels off at ~78 MB.
    child = spawn(process.execPath, ['--max-old-space-size=48', '--max-semi-space-size=2', join(serverDir, 'server.mjs'), '--bundle', fixture.bundleFile, '--port', '0', '--api-key-env', 'FUZZ_KEY', '--rate-limit', '100000', '--rate-burst', '100000', '--trust-proxy', '--poll-seconds', '0'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FUZZ_KEY: API_KEY } });
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    const started = Date.now();
    while (!/serving at http:\/\/127\.0\.0\.1:(\d+)/.test(out)) {
      if (child.exitCode !== null || Date.now() - started > 20_000) throw new Error(`the server did not start:\n${out}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    port = Number(/serving at http:\/\/127\.0\.0\.1:(\d+)/.exec(out)![1]);
  });

  afterAll(async () => {
    agent.destroy();
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
  });

  const send = (shot: Shot) => sendRequest(port, agent, shot, 10_000);
  const sendRaw = (bytes: Buffer) => sendRawBytes(port, bytes);

  it(`answers ${ROUNDS} × ${PER_ROUND + RAW_PER_ROUND} malformed requests with no 5xx, no crash, flat memory`, async () => {
    const statuses = new Map<number, number>();
    const rss: number[] = [];
    const fuzz = generator(20261125);
    for (let round = 0; round < ROUNDS; round++) {
      let next = 0;
      const worker = async () => {
        while (next < PER_ROUND) {
          next++;
          const status = await send(fuzz.shot());
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
        }
      };
      await Promise.all(Array.from({ length: CONCURRENCY }, worker));
      for (let i = 0; i < RAW_PER_ROUND; i += 10) {
        const batches = await Promise.all(Array.from({ length: 10 }, () => sendRaw(fuzz.rawBytes())));
        for (const codes of batches) for (const status of codes) statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }
      expect(child.exitCode, out).toBeNull();
      if (existsSync(`/proc/${child.pid}/status`)) rss.push(rssMb(child.pid!));
    }
    const fivexx = [...statuses].filter(([status]) => status >= 500);
    expect(fivexx, `statuses: ${JSON.stringify([...statuses])}\n${out.slice(-2000)}`).toEqual([]);
    expect(out).not.toMatch(/server error/);
    // Most requests were refused with a 4xx, and some valid ones got through.
    const count = (predicate: (status: number) => boolean) => [...statuses].filter(([status]) => predicate(status)).reduce((sum, [, n]) => sum + n, 0);
    expect(count((s) => s >= 400 && s < 500)).toBeGreaterThan(ROUNDS * PER_ROUND * 0.4);
    expect(count((s) => s === 200)).toBeGreaterThan(ROUNDS * 50);
    // Still healthy afterwards.
    const health = await fetch(`http://127.0.0.1:${port}/health`);
    expect(health.status).toBe(200);
    if (rss.length === ROUNDS) {
      // Flat: after the first (warm-up) round, resident memory grows by less than 15 MB over the rest.
      expect(Math.max(...rss.slice(1)) - rss[1]!, `RSS per round (MB): ${rss.map((v) => v.toFixed(1)).join(', ')}`).toBeLessThan(15);
    }
    console.log(`fuzz: ${JSON.stringify(Object.fromEntries(statuses))}; RSS per round (MB): ${rss.map((v) => v.toFixed(1)).join(', ')}`);
  }, 120_000);
});
