import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/**
 * The launch token of the local HTTP API: the one credential that separates the person who ran
 * `pricedrop start` from every other process (and user) on the machine, which can all reach
 * 127.0.0.1. As Jupyter and code-server do, each run makes a random token (or takes one the user
 * chose) and prints it in the address it serves at; a browser trades it once for a cookie, a
 * script sends it as `Authorization: Bearer …`.
 *
 * The cookie does not hold the token itself but a value derived from it (HMAC), so the browser's
 * cookie jar never stores the token. Every comparison is made in constant time over SHA-256
 * digests of equal length, so neither the content nor the length of a guess leaks through timing.
 */

/** 32 random bytes, base64url: 43 characters, 256 bits. */
export function createLaunchToken(): string {
  return randomBytes(32).toString('base64url');
}

/** What a token chosen by the user (`--token`, `PRICEDROP_TOKEN`) must look like: safe in a URL, a header and a shell, and long enough not to be guessed. */
export const TOKEN_PATTERN = /^[A-Za-z0-9._~-]{16,256}$/;

/**
 * Checks a token the user chose; returns the reason it is refused, or undefined when it is fine.
 * The reason never contains the value (it is a secret and may end up in a log).
 */
export function tokenProblem(token: string): string | undefined {
  if (token.length < 16) return 'is shorter than 16 characters';
  if (token.length > 256) return 'is longer than 256 characters';
  if (!TOKEN_PATTERN.test(token)) return "may only hold letters, digits and . _ ~ -";
  return undefined;
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/** Constant-time equality of two strings (digests of equal length are compared, whatever the inputs' lengths). */
export function sameSecret(candidate: string, expected: string): boolean {
  return timingSafeEqual(digest(candidate), digest(expected));
}

/** The cookie name for a server on `port`: cookies are not scoped by port, so two PriceDrops on one machine must not share one. */
export function sessionCookieName(port: number): string {
  return `pricedrop_session_${port}`;
}

/** The cookie value a token is traded for. */
export function sessionCookieValue(token: string): string {
  return createHmac('sha256', token).update('pricedrop-session-cookie-v1').digest('base64url');
}

/** The `Set-Cookie` header of a session: HttpOnly (no script reads it), SameSite=Strict (no other site sends it), for the whole server, until the browser closes. */
export function sessionSetCookie(port: number, token: string): string {
  return `${sessionCookieName(port)}=${sessionCookieValue(token)}; Path=/; HttpOnly; SameSite=Strict`;
}

/** The bearer token of an `Authorization` header, if it has one. */
export function bearerToken(headers: IncomingHttpHeaders): string | undefined {
  const header = headers.authorization;
  if (header === undefined) return undefined;
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  return match?.[1];
}

/** Every value of the cookie `name` in a `Cookie` header (a browser may send several). */
export function cookieValues(headers: IncomingHttpHeaders, name: string): string[] {
  const header = headers.cookie;
  if (header === undefined) return [];
  const values: string[] = [];
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === name) values.push(part.slice(eq + 1).trim());
  }
  return values;
}

/** How a request proved it holds the token, or undefined when it did not. */
export type Credential = 'bearer' | 'cookie';

/**
 * Checks a request's credential against the token: a matching bearer token or session cookie.
 * A wrong bearer token fails even when a good cookie comes along (a script sent the wrong one).
 */
export function requestCredential(headers: IncomingHttpHeaders, token: string, port: number): Credential | undefined {
  const bearer = bearerToken(headers);
  if (bearer !== undefined) return sameSecret(bearer, token) ? 'bearer' : undefined;
  if (headers.authorization !== undefined) return undefined; // another scheme (Basic...): not ours
  const expected = sessionCookieValue(token);
  // At most a few values: a browser sends one per matching path/domain; more is not a browser.
  const values = cookieValues(headers, sessionCookieName(port)).slice(0, 4);
  let ok = false;
  for (const value of values) ok = sameSecret(value, expected) || ok;
  return ok ? 'cookie' : undefined;
}

/** The address to open: the server's base URL with the token, which the page trades for its cookie. */
export function launchUrl(baseUrl: string, token: string): string {
  const url = new URL(baseUrl);
  url.search = `token=${encodeURIComponent(token)}`;
  return url.toString();
}
