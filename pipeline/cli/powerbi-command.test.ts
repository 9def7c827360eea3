import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTempDirs } from '../../test/support/temp-dirs';
import { parseArgs, type CommandIo } from '../base/command-line';
import { powerbiCommand } from './powerbi-command';

const tempDir = useTempDirs('pricedrop-pbids-');

function run(argv: string[]) {
  const json: unknown[] = [];
  const io: CommandIo = { log: () => undefined, out: () => undefined, progress: () => undefined, json: (v) => void json.push(v) };
  return powerbiCommand.run(parseArgs(argv, powerbiCommand.booleanFlags), io).then(() => json[0] as { out: string; connection_string: string });
}

describe('pricedrop powerbi', () => {
  it('writes a .pbids with the Athena ODBC connection: region, workgroup, catalog, database, output location', async () => {
    const dir = tempDir();
    const out = join(dir, 'athena.pbids');
    const result = await run(['--out', out, '--bucket', 'acme-prices', '--region', 'eu-west-1', '--workgroup', 'analysts', '--profile', 'bi', '--json']);
    const file = JSON.parse(readFileSync(out, 'utf8'));
    expect(file).toEqual({
      version: '0.1',
      connections: [
        {
          details: {
            protocol: 'odbc',
            address: {
              connectionString:
                'Driver={Amazon Athena ODBC (x64)};AwsRegion=eu-west-1;Catalog=AwsDataCatalog;Schema=pricedrop;Workgroup=analysts;S3OutputLocation=s3://acme-prices/athena-results/;AuthenticationType=IAM Profile;AWSProfile=bi',
            },
          },
          options: {},
          mode: 'Import',
        },
      ],
    });
    expect(result.connection_string).toBe(file.connections[0].details.address.connectionString);
  });

  it('points at the local cache through the SQLite ODBC driver', async () => {
    const dir = tempDir();
    const result = await run(['--out', join(dir, 'cache.pbids'), '--source', 'cache', '--workspace', join(dir, 'my ws'), '--json']);
    expect(result.connection_string).toBe(`Driver={SQLite3 ODBC Driver};Database=${join(dir, 'my ws', 'cache.db')};NoCreat=1;Timeout=5000`);
  });

  it('refuses a file that is not .pbids', async () => {
    await expect(run(['--out', '/tmp/x.json', '--bucket', 'acme-prices'])).rejects.toThrow(/\.pbids/);
  });
});
