import { describe, expect, it } from 'vitest';
import { numberFlag, parseArgs, UsageError } from './command-line';

describe('CLI arguments', () => {
  it('parses flags, switches and positionals', () => {
    const args = parseArgs(['a.csv', '--workspace', '/tmp/w', '--json', '--map=title=name,price=price', 'b.csv'], []);
    expect(args.positional).toEqual(['a.csv', 'b.csv']);
    expect(args.flags.get('workspace')).toBe('/tmp/w');
    expect(args.flags.get('map')).toBe('title=name,price=price');
    expect(args.switches.has('json')).toBe(true);
  });

  it('rejects a flag without its value and bad numbers with the flag named', () => {
    expect(() => parseArgs(['--workspace'])).toThrow(UsageError);
    expect(() => parseArgs(['--json=1'])).toThrow(/takes no value/);
    expect(() => numberFlag(parseArgs(['--port', 'abc']), 'port', 1)).toThrow('--port must be a number, got "abc"');
    expect(() => numberFlag(parseArgs(['--port', '70000']), 'port', 1, { max: 65535 })).toThrow(/at most 65535/);
    expect(numberFlag(parseArgs([]), 'port', 4173)).toBe(4173);
  });
});
