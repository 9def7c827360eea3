import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ValidationError } from '../base/errors';
import { DEFAULT_SETTINGS, readSettings, settingsPath, updateSettings } from './settings-store';
import { powerBiConnection } from './power-bi';

const workspace = () => mkdtempSync(join(tmpdir(), 'pricedrop-settings-'));

describe('settings store', () => {
  it('starts from the defaults and keeps partial updates across reads', () => {
    const ws = workspace();
    expect(readSettings(ws)).toEqual(DEFAULT_SETTINGS);
    updateSettings(ws, { aws: { region: 'us-east-2', bucket: 'my-lake' }, dashboard: { categories: ['Toys'], dropStatus: 'drop' } });
    const next = readSettings(ws);
    expect(next.aws).toMatchObject({ region: 'us-east-2', bucket: 'my-lake', glueDatabase: 'pricedrop' });
    expect(next.dashboard).toMatchObject({ categories: ['Toys'], dropStatus: 'drop', grain: 'day' });
  });

  it('refuses credentials and unknown keys, and never writes them', () => {
    const ws = workspace();
    expect(() => updateSettings(ws, { aws: { secretAccessKey: 'x' } })).toThrow(/never stores credentials/);
    expect(() => updateSettings(ws, { aws: { accessKeyId: 'AKIA' } })).toThrow(ValidationError);
    expect(() => updateSettings(ws, { colour: 'red' })).toThrow(/unknown setting/);
    expect(() => updateSettings(ws, { aws: { region: 'mars' } })).toThrow(/eu-west-1/);
    expect(() => updateSettings(ws, { alerts: { dailyCap: -1 } })).toThrow(ValidationError);
  });

  it('falls back to the defaults, saying why, when the file is damaged', () => {
    const ws = workspace();
    writeFileSync(settingsPath(ws), '{not json');
    expect(readSettings(ws).problem).toMatch(/could not be read/);
  });

  it('writes .pbids files for the cache and, with a bucket, for Athena, without credentials', () => {
    const ws = workspace();
    const cacheOnly = powerBiConnection(ws, updateSettings(ws, { aws: { profile: 'analyst' } }));
    expect(cacheOnly.athena).toBeNull();
    const pbids = JSON.parse(cacheOnly.cache.pbids) as { connections: { details: { protocol: string; address: { connectionString: string } } }[] };
    expect(pbids.connections[0]!.details.protocol).toBe('odbc');
    expect(pbids.connections[0]!.details.address.connectionString).toContain(join(ws, 'cache.db'));
    const both = powerBiConnection(ws, updateSettings(ws, { aws: { bucket: 'analyst-lake', region: 'eu-west-1' } }));
    expect(both.athena!.connectionString).toMatch(/AwsRegion=eu-west-1;.*Schema=pricedrop;Workgroup=pricedrop;S3OutputLocation=s3:\/\/analyst-lake\/athena-results\/;AuthenticationType=IAM Profile;AWSProfile=analyst/);
    expect(readFileSync(settingsPath(ws), 'utf8')).not.toMatch(/secret|password/i);
  });
});
