import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventBus } from './event-bus';
import type { EventMap } from '../app/events';
import { startHttpTransport, type HttpTransport } from './http-transport';
import { record, requiredString } from './validate';
import { ConflictError, ValidationError } from '../base/errors';
import { sessionCookieName } from './launch-token';
import { NoSpaceError } from '../base/disk-full';
import type { Handlers } from '../app/handlers';

const staticDir = mkdtempSync(join(tmpdir(), 'pricedrop-static-'));
writeFileSync(join(staticDir, 'index.html'), '<!doctype html><title>PriceDrop</title>');
const TOKEN = 'unit-test-token-0123456789';
const BEARER = { Authorization: `Bearer ${TOKEN}` };

const handlers = {
  'test/echo': async (params: { text: string }) => ({ echoed: requiredString(record(params), 'text', 20) }),
  'test/none': async () => ({ fine: true }),
  'test/boom': async () => {
    throw new Error('secret path /home/user/.aws/credentials');
  },
  'test/invalid': async () => {
    throw new ValidationError('nope');
  },
  'test/busy': async () => {
    throw new ConflictError('already running');
  },
  'test/full': async () => {
    throw new NoSpaceError('No space left on the disk holding the workspace: nothing was written');
  },
} as unknown as Handlers;

let transport: HttpTransport | undefined;
let logged: string[] = [];
afterEach(async () => {
  await transport?.close();
  transport = undefined;
  logged = [];
});

async function start(events = new EventBus<EventMap>()) {
  transport = await startHttpTransport({ handlers, events, staticDir, port: 0, token: TOKEN, health: () => ({ version: 'test' }), log: (line) => logged.push(line) });
  return transport;
}

function raw(port: number, path: string, init: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {}) {
  return new Promise<{ status: number; body: string; headers: Record<string, string | string[] | undefined> }>((resolve, reject) => {
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

const post = (t: HttpTransport, path: string, body: string | Buffer, headers: Record<string, string> = { 'Content-Type': 'application/json', ...BEARER }) =>
  raw(t.port, path, { method: 'POST', headers: { Host: `127.0.0.1:${t.port}`, ...headers }, body });

describe('HTTP transport', () => {
  it('serves health and the UI to anyone, with a CSP, and invokes handlers for the token holder', async () => {
    const t = await start();
    const health = await fetch(new URL('/api/health', t.url));
    expect(await health.json()).toEqual({ ok: true, version: 'test' });
    const page = await fetch(t.url);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    const echo = await fetch(new URL('/api/invoke/test/echo', t.url), { method: 'POST', headers: { 'Content-Type': 'application/json', ...BEARER }, body: JSON.stringify({ text: 'hi' }) });
    expect(await echo.json()).toEqual({ result: { echoed: 'hi' } });
    // A body-less call needs no Content-Type (curl -X POST -H "Authorization: Bearer …").
    expect(await (await fetch(new URL('/api/invoke/test/none', t.url), { method: 'POST', headers: BEARER })).json()).toEqual({ result: { fine: true } });
  });

  it('answers 401 on every /api/ route but health without the token, whatever the route or method', async () => {
    const t = await start();
    for (const [method, path] of [
      ['POST', '/api/invoke/test/echo'],
      ['POST', '/api/invoke/no/such'],
      ['GET', '/api/invoke/test/echo'],
      ['GET', '/api/events'],
      ['GET', '/api/nothing-here'],
      ['DELETE', '/api'],
      ['POST', '/api/session'],
    ] as const) {
      for (const headers of [{}, { Authorization: 'Bearer wrong-token-0123456789' }, { Authorization: `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}` }, { Cookie: `${sessionCookieName(t.port)}=${TOKEN}` }] as Record<string, string>[]) {
        const response = await raw(t.port, path, { method, headers: { Host: `127.0.0.1:${t.port}`, 'Content-Type': 'application/json', ...headers }, body: method === 'POST' ? '{"text":"hi"}' : undefined });
        expect(response.status, `${method} ${path} ${JSON.stringify(headers)}`).toBe(401);
        expect(response.headers['www-authenticate']).toBe('Bearer realm="PriceDrop"');
        expect(JSON.parse(response.body)).toMatchObject({ error: { code: 'unauthorized' } });
      }
    }
    // With the token: the route's own answer.
    expect((await raw(t.port, '/api/nothing-here', { headers: { Host: `127.0.0.1:${t.port}`, ...BEARER } })).status).toBe(404);
  });

  it('trades the bearer token for an HttpOnly, SameSite=Strict session cookie that stands for it', async () => {
    const t = await start();
    const session = await post(t, '/api/session', '', BEARER);
    expect(session.status).toBe(204);
    const setCookie = String(session.headers['set-cookie']);
    expect(setCookie).toMatch(new RegExp(`^${sessionCookieName(t.port)}=[A-Za-z0-9_-]{43}; Path=/; HttpOnly; SameSite=Strict$`));
    // The cookie holds a value derived from the token, never the token itself.
    expect(setCookie).not.toContain(TOKEN);
    const cookie = setCookie.split(';')[0]!;
    const echo = await post(t, '/api/invoke/test/echo', '{"text":"hi"}', { 'Content-Type': 'application/json', Cookie: `theme=dark; ${cookie}` });
    expect(echo.status).toBe(200);
    expect((await raw(t.port, '/api/events', { method: 'POST', headers: { Host: `127.0.0.1:${t.port}`, Cookie: cookie } })).status).toBe(405);
    // A cookie of another port's server, or a tampered one, does not get in.
    expect((await post(t, '/api/invoke/test/echo', '{"text":"hi"}', { 'Content-Type': 'application/json', Cookie: `${sessionCookieName(t.port + 1)}=${cookie.split('=')[1]}` })).status).toBe(401);
    expect((await post(t, '/api/invoke/test/echo', '{"text":"hi"}', { 'Content-Type': 'application/json', Cookie: `${cookie}x` })).status).toBe(401);
    // A wrong bearer token fails even beside a good cookie; the session needs the bearer token, not a cookie.
    expect((await post(t, '/api/invoke/test/echo', '{"text":"hi"}', { 'Content-Type': 'application/json', Cookie: cookie, Authorization: 'Bearer nope-nope-nope-nope' })).status).toBe(401);
    expect((await post(t, '/api/session', '', { Cookie: cookie })).status).toBe(401);
  });

  it('gives each refusal its status, with a message; a fault is a 500 logged with its stack, never sent', async () => {
    const t = await start();
    const missing = await post(t, '/api/invoke/test/echo', '{}');
    expect(missing.status).toBe(400);
    expect(JSON.parse(missing.body)).toEqual({ error: { code: 'bad_request', message: 'text is required' } });
    expect((await post(t, '/api/invoke/test/echo', '{"text":')).status).toBe(400);
    expect(JSON.parse((await post(t, '/api/invoke/test/echo', '[1]')).body).error.message).toBe('params must be an object');
    expect(JSON.parse((await post(t, '/api/invoke/test/echo', '{"text":"hi","a":{"__proto__":{"x":1}}}')).body)).toEqual({ error: { code: 'bad_request', message: 'params.a.__proto__ is not accepted' } });
    expect(JSON.parse((await post(t, '/api/invoke/test/echo', '{"a":'.repeat(30) + '1' + '}'.repeat(30))).body).error.message).toMatch(/nested at most 20 deep/);
    expect(JSON.parse((await post(t, '/api/invoke/test/echo', Buffer.from([0x7b, 0x22, 0x74, 0x65, 0x78, 0x74, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d]))).body).error.message).toBe('Request body is not valid UTF-8');
    expect((await post(t, '/api/invoke/test/echo', '{"text":"hi"}', { 'Content-Type': 'APPLICATION/JSON; Charset=UTF-8', ...BEARER })).status).toBe(200);
    expect((await post(t, '/api/invoke/test/echo', 'text=hi', { 'Content-Type': 'application/x-www-form-urlencoded', ...BEARER })).status).toBe(415);
    expect((await post(t, '/api/invoke/test/echo', '{"text":"hi"}', { 'Content-Type': 'application/jsonx', ...BEARER })).status).toBe(415);
    expect((await post(t, '/api/invoke/test/echo', '{"text":"hi"}', { 'Content-Type': 'application/json; charset=latin1', ...BEARER })).status).toBe(415);
    expect((await post(t, '/api/invoke/test/echo', '{"text":"hi"}', BEARER)).status).toBe(415);
    expect((await post(t, '/api/invoke/nope', '{}')).status).toBe(404);
    expect((await post(t, '/api/invoke/%ED%A0%80', '{}')).status).toBe(400);
    expect((await post(t, '/api/invoke/toString', '{}')).status).toBe(404);
    expect((await post(t, '/api/invoke/test/invalid', '{}')).status).toBe(400);
    expect(JSON.parse((await post(t, '/api/invoke/test/busy', '{}')).body)).toEqual({ error: { code: 'conflict', message: 'already running' } });
    const full = await post(t, '/api/invoke/test/full', '{}');
    expect(full.status).toBe(507);
    expect(JSON.parse(full.body)).toEqual({ error: { code: 'no_space', message: 'No space left on the disk holding the workspace: nothing was written' } });
    expect((await post(t, '/api/invoke/test/echo', JSON.stringify({ text: 'x'.repeat(2 * 1024 * 1024) }))).status).toBe(413);
    expect(logged.filter((line) => !line.startsWith('test/full failed'))).toEqual([]);
    const boom = await post(t, '/api/invoke/test/boom', '{}');
    expect(boom.status).toBe(500);
    expect(boom.body).not.toContain('credentials');
    expect(boom.body).not.toContain('/home');
    expect(logged.at(-1)).toMatch(/^test\/boom failed: Error: secret path \/home\/user\/\.aws\/credentials\n\s+at /);
    expect((await raw(t.port, '/api/invoke/test/echo', { headers: { Host: `127.0.0.1:${t.port}`, ...BEARER } })).status).toBe(405);
    expect((await fetch(new URL('/../../etc/passwd', t.url))).status).toBe(404);
    expect((await raw(t.port, '/%E0%A4%A', { headers: { Host: `127.0.0.1:${t.port}` } })).status).toBe(400);
    expect((await raw(t.port, '/index.html%00.js', { headers: { Host: `127.0.0.1:${t.port}` } })).status).toBe(404);
  });

  it('rejects a foreign Host (DNS rebinding) and a cross-site Origin, token or not', async () => {
    const t = await start();
    expect((await raw(t.port, '/api/health', { headers: { Host: 'evil.example:80' } })).status).toBe(403);
    expect((await raw(t.port, '/api/invoke/test/none', { method: 'POST', headers: { Host: 'evil.example:80', ...BEARER } })).status).toBe(403);
    expect((await raw(t.port, '/api/health', { headers: { Host: `127.0.0.1:${t.port}` } })).status).toBe(200);
    const crossSite = await raw(t.port, '/api/invoke/test/echo', {
      method: 'POST',
      headers: { Host: `127.0.0.1:${t.port}`, Origin: 'https://evil.example', 'Content-Type': 'application/json', ...BEARER },
      body: '{"text":"hi"}',
    });
    expect(crossSite.status).toBe(403);
    const sameSite = await raw(t.port, '/api/invoke/test/echo', {
      method: 'POST',
      headers: { Host: `localhost:${t.port}`, Origin: `http://localhost:${t.port}`, 'Content-Type': 'application/json', ...BEARER },
      body: '{"text":"hi"}',
    });
    expect(sameSite.status).toBe(200);
  });

  it('streams events as server-sent events to the token holder', async () => {
    const events = new EventBus<EventMap>();
    const t = await start(events);
    expect((await fetch(new URL('/api/events', t.url))).status).toBe(401);
    const response = await fetch(new URL('/api/events', t.url), { headers: BEARER });
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    const reader = response.body!.getReader();
    await reader.read(); // ": connected"
    events.emit('data/changed', { origin: 'local', rows: 3, at: '2026-01-01T00:00:00.000Z' });
    const { value } = await reader.read();
    expect(new TextDecoder().decode(value)).toBe('event: data/changed\ndata: {"origin":"local","rows":3,"at":"2026-01-01T00:00:00.000Z"}\n\n');
    await reader.cancel();
  });
});
