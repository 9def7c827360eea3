import { describe, expect, it } from 'vitest';
import { bearerToken, cookieValues, createLaunchToken, launchUrl, requestCredential, sameSecret, sessionCookieName, sessionCookieValue, sessionSetCookie, tokenProblem } from './launch-token';

const TOKEN = 'a-chosen-token-0123456789';

describe('launch token', () => {
  it('is random each run: 43 URL-safe characters (256 bits)', () => {
    const tokens = new Set(Array.from({ length: 50 }, () => createLaunchToken()));
    expect(tokens.size).toBe(50);
    for (const token of tokens) {
      expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(tokenProblem(token)).toBeUndefined();
    }
  });

  it('refuses a chosen token that is short, long or unsafe in a URL, without repeating it', () => {
    expect(tokenProblem('short')).toBe('is shorter than 16 characters');
    expect(tokenProblem('x'.repeat(257))).toBe('is longer than 256 characters');
    expect(tokenProblem('with space and more than 16')).toMatch(/may only hold/);
    expect(tokenProblem('semi;colon-0123456789')).toMatch(/may only hold/);
    expect(tokenProblem(TOKEN)).toBeUndefined();
  });

  it('compares secrets of any length', () => {
    expect(sameSecret(TOKEN, TOKEN)).toBe(true);
    expect(sameSecret(TOKEN.slice(0, -1), TOKEN)).toBe(false);
    expect(sameSecret(`${TOKEN}x`, TOKEN)).toBe(false);
    expect(sameSecret('', TOKEN)).toBe(false);
  });

  it('reads a bearer token and cookies as browsers and scripts send them', () => {
    expect(bearerToken({ authorization: `Bearer ${TOKEN}` })).toBe(TOKEN);
    expect(bearerToken({ authorization: `bearer   ${TOKEN} ` })).toBe(TOKEN);
    expect(bearerToken({ authorization: `Basic ${TOKEN}` })).toBeUndefined();
    expect(bearerToken({ authorization: `Bearer a b` })).toBeUndefined();
    expect(cookieValues({ cookie: 'a=1; pricedrop_session_80=x; b=2;pricedrop_session_80=y' }, 'pricedrop_session_80')).toEqual(['x', 'y']);
    expect(cookieValues({}, 'a')).toEqual([]);
  });

  it('lets in the bearer token or the cookie derived from it, for this port only', () => {
    const cookie = sessionCookieValue(TOKEN);
    expect(cookie).not.toContain(TOKEN);
    expect(sessionSetCookie(4173, TOKEN)).toBe(`pricedrop_session_4173=${cookie}; Path=/; HttpOnly; SameSite=Strict`);
    expect(requestCredential({ authorization: `Bearer ${TOKEN}` }, TOKEN, 4173)).toBe('bearer');
    expect(requestCredential({ cookie: `${sessionCookieName(4173)}=${cookie}` }, TOKEN, 4173)).toBe('cookie');
    expect(requestCredential({ cookie: `${sessionCookieName(4174)}=${cookie}` }, TOKEN, 4173)).toBeUndefined();
    expect(requestCredential({ cookie: `${sessionCookieName(4173)}=${TOKEN}` }, TOKEN, 4173)).toBeUndefined();
    expect(requestCredential({ cookie: `${sessionCookieName(4173)}=${cookie}`, authorization: 'Bearer wrong-wrong-wrong' }, TOKEN, 4173)).toBeUndefined();
    expect(requestCredential({}, TOKEN, 4173)).toBeUndefined();
    // The cookie of an earlier run (another token) does not open this one.
    expect(requestCredential({ cookie: `${sessionCookieName(4173)}=${sessionCookieValue(createLaunchToken())}` }, TOKEN, 4173)).toBeUndefined();
  });

  it('puts the token in the address to open', () => {
    expect(launchUrl('http://127.0.0.1:4173/', TOKEN)).toBe(`http://127.0.0.1:4173/?token=${TOKEN}`);
    expect(launchUrl('http://[::1]:8080/', 'a~b.c_d-e0123456789')).toBe('http://[::1]:8080/?token=a~b.c_d-e0123456789');
  });
});
