import { describe, expect, it } from 'vitest';
import { renderHelp } from './main';
import { COMMANDS } from './commands';

describe('CLI help', () => {
  it('lists every command in --help', () => {
    const help = renderHelp(COMMANDS);
    for (const command of COMMANDS) expect(help).toContain(command.name);
    expect(help).toContain('--workspace');
  });
});
