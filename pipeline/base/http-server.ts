import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The HTTP mechanics both servers share: the app's API (pipeline/api/http-transport.ts) and the
 * headless predictor (model/server/predict-server.ts). Routes, who gets in, and the content
 * security policy stay with each server; this module knows none of them.
 */

/** A refusal: the status, the `{"error":{code,message}}` body, and headers it needs (Allow, Retry-After). */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}

/**
 * The headers every answer of either server carries, as a flat name/value list for one
 * `writeHead`: the server's own CSP, the shared refusals of sniffing, framing, referrers and
 * cross-origin embedding, then the server's `extra` headers.
 */
export function securityHeaderList(contentSecurityPolicy: string, extra: Readonly<Record<string, string>> = {}): readonly string[] {
  return Object.entries({
    'Content-Security-Policy': contentSecurityPolicy,
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'no-referrer',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
    ...extra,
  }).flat();
}

/**
 * Answers with JSON text in one `writeHead` (no setHeader per header on the predictor's hot path);
 * `headers` is a flat name/value list added after the JSON ones. Never cached.
 */
export function sendJsonText(res: ServerResponse, status: number, text: string, headers: readonly (string | number)[] = []): void {
  res.writeHead(status, ['Content-Type', 'application/json; charset=utf-8', 'Cache-Control', 'no-store', 'Content-Length', Buffer.byteLength(text), ...headers] as string[]);
  res.end(text);
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: readonly (string | number)[] = []): void {
  sendJsonText(res, status, JSON.stringify(body), headers);
}

/** The JSON error body of a refusal, with its headers; `code` overrides the error's own (a server's contract may name fewer codes). */
export function sendHttpError(res: ServerResponse, error: HttpError, headers: readonly (string | number)[] = [], code = error.code): void {
  sendJson(res, error.status, { error: { code, message: error.message } }, [...Object.entries(error.headers).flat(), ...headers]);
}

/** Throws 405 with the Allow header unless `method` is one of `methods`. */
export function allowMethods(method: string | undefined, methods: readonly string[]): void {
  if (method === undefined || !methods.includes(method)) {
    throw new HttpError(405, 'method_not_allowed', `Method not allowed; use ${methods.join(', ')}`, { Allow: methods.join(', ') });
  }
}

/**
 * Reads a request body of at most `maxBytes`. A larger one is refused with 413 and drained, not
 * kept and not reset, so the answer reaches a client still sending: at once when Content-Length
 * declares it, else when the body ends (the server's request timeout bounds a slow one).
 * A client that goes away mid-body gets 400 (nothing will read it; it is no fault of the server).
 */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const tooLarge = () => new HttpError(413, 'payload_too_large', `The body is larger than ${maxBytes} bytes`);
  return new Promise((resolve, reject) => {
    const declared = req.headers['content-length'];
    if (declared !== undefined && !(Number(declared) <= maxBytes)) {
      req.resume();
      reject(tooLarge());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxBytes) chunks.push(chunk);
    });
    req.on('error', () => reject(new HttpError(400, 'bad_request', 'The body was cut short')));
    req.on('end', () => (size > maxBytes ? reject(tooLarge()) : resolve(Buffer.concat(chunks, size))));
  });
}

/** Content types of the files the servers' pages are made of (by extension, with the dot). */
export const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
};

/** Listens on `host:port` (0: any free port) and resolves with the port; a failure to bind rejects. */
export function listen(server: Server, host: string, port = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}
