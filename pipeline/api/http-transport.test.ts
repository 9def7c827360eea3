import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventBus } from './event-bus';
import { startHttpTransport, type HttpTransport } from './http-transport';
import { record, requiredString, ValidationError } from './validate';
import type { Handlers } from './handlers';

const staticDir = mkdtempSync(join(tmpdir(), 'pricedrop-static-'));
writeFileSync(join(staticDir, 'index.html'), '<!doctype html><title>PriceDrop</title>');

const handlers = {
  'test/echo': async (params: { text: string }) => ({ echoed: requiredString(record(params), 'text', 20) }),
  'test/boom': async () => {
    throw new Error('secret path /home/user/.aws/credentials');
  },
  'test/invalid': async () => {
    throw new ValidationError('nope');
  },
} as unknown as Handlers;

let transport: HttpTransport | undefined;
afterEach(async () => {
  await transport?.close();
  transport = undefined;
});

async function start() {
  transport = await startHttpTransport({ handlers, events: new EventBus(), staticDir, port: 0 });
  return transport;
}

function raw(port: number, path: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}) {
  return new Promise<{ status: number; body: string; headers: Record<string, unknown> }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: init.method ?? 'GET', headers: init.headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

describe('HTTP transport', () => {
  it('serves health, the UI with a CSP, and invokes handlers', async () => {
    const t = await start();
    const health = await fetch(new URL('/api/health', t.url));
    expect(await health.json()).toEqual({ ok: true });
    const page = await fetch(t.url);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    const echo = await fetch(new URL('/api/invoke/test/echo', t.url), { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ text: 'hi' }) });
    expect(await echo.json()).toEqual({ result: { echoed: 'hi' } });
  });

  it('answers bad requests with a 4xx and a message, errors without internals', async () => {
    const t = await start();
    const post = (path: string, body: string, type = 'application/json') => fetch(new URL(path, t.url), { method: 'POST', headers: { 'Content-Type': type }, body });
    const missing = await post('/api/invoke/test/echo', '{}');
    expect(missing.status).toBe(400);
    expect(await missing.json()).toEqual({ error: { code: 'bad_request', message: 'text is required' } });
    expect((await post('/api/invoke/test/echo', '{"text":')).status).toBe(400);
    expect((await post('/api/invoke/test/echo', '[1]')).status).toBe(400);
    expect((await post('/api/invoke/test/echo', 'text=hi', 'application/x-www-form-urlencoded')).status).toBe(415);
    expect((await post('/api/invoke/nope', '{}')).status).toBe(404);
    expect((await post('/api/invoke/test/invalid', '{}')).status).toBe(400);
    expect((await post('/api/invoke/test/echo', JSON.stringify({ text: 'x'.repeat(2 * 1024 * 1024) }))).status).toBe(413);
    const boom = await post('/api/invoke/test/boom', '{}');
    expect(boom.status).toBe(500);
    const text = await boom.text();
    expect(text).not.toContain('credentials');
    expect(text).not.toContain('/home');
    expect((await fetch(new URL('/api/invoke/test/echo', t.url))).status).toBe(405);
    expect((await fetch(new URL('/../../etc/passwd', t.url))).status).toBe(404);
  });

  it('rejects a foreign Host (DNS rebinding) and a cross-site Origin', async () => {
    const t = await start();
    expect((await raw(t.port, '/api/health', { headers: { Host: 'evil.example:80' } })).status).toBe(403);
    expect((await raw(t.port, '/api/health', { headers: { Host: `127.0.0.1:${t.port}` } })).status).toBe(200);
    const crossSite = await raw(t.port, '/api/invoke/test/echo', {
      method: 'POST',
      headers: { Host: `127.0.0.1:${t.port}`, Origin: 'https://evil.example', 'Content-Type': 'application/json' },
      body: '{"text":"hi"}',
    });
    expect(crossSite.status).toBe(403);
    const sameSite = await raw(t.port, '/api/invoke/test/echo', {
      method: 'POST',
      headers: { Host: `localhost:${t.port}`, Origin: `http://localhost:${t.port}`, 'Content-Type': 'application/json' },
      body: '{"text":"hi"}',
    });
    expect(sameSite.status).toBe(200);
  });

  it('streams events as server-sent events', async () => {
    const events = new EventBus();
    transport = await startHttpTransport({ handlers, events, staticDir, port: 0 });
    const response = await fetch(new URL('/api/events', transport.url));
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    const reader = response.body!.getReader();
    await reader.read(); // ": connected"
    events.emit('data/changed', { origin: 'local', rows: 3, at: '2026-01-01T00:00:00.000Z' });
    const { value } = await reader.read();
    expect(new TextDecoder().decode(value)).toBe('event: data/changed\ndata: {"origin":"local","rows":3,"at":"2026-01-01T00:00:00.000Z"}\n\n');
    await reader.cancel();
  });
});
