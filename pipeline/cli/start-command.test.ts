import { describe, expect, it } from 'vitest';
import { parseArgs, UsageError } from '../base/command-line';
import { launchToken } from './start-command';

describe('pricedrop start: the launch token', () => {
  it('is random each run unless one is chosen', () => {
    const env: NodeJS.ProcessEnv = {};
    const first = launchToken(parseArgs([]), env);
    expect(first).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(launchToken(parseArgs([]), env)).not.toBe(first);
  });

  it('takes --token, else PRICEDROP_TOKEN, and removes the variable so children do not inherit it', () => {
    const env: NodeJS.ProcessEnv = { PRICEDROP_TOKEN: 'from-the-environment-123' };
    expect(launchToken(parseArgs(['--token', 'from-the-command-line-1']), env)).toBe('from-the-command-line-1');
    expect(env.PRICEDROP_TOKEN).toBeUndefined();
    expect(launchToken(parseArgs([]), { PRICEDROP_TOKEN: 'from-the-environment-123' })).toBe('from-the-environment-123');
    // An empty variable is no choice.
    expect(launchToken(parseArgs([]), { PRICEDROP_TOKEN: '' })).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('refuses a weak or unsafe chosen token without repeating it', () => {
    expect(() => launchToken(parseArgs(['--token', 'secret']), {})).toThrow(UsageError);
    expect(() => launchToken(parseArgs(['--token=']), {})).toThrow('--token is shorter than 16 characters');
    try {
      launchToken(parseArgs([]), { PRICEDROP_TOKEN: 'my secret pass phrase' });
      expect.unreachable();
    } catch (error) {
      expect((error as Error).message).toBe('PRICEDROP_TOKEN may only hold letters, digits and . _ ~ -');
    }
  });
});
