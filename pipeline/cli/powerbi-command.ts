import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { requiredFlag, stringFlag, UsageError, workspaceOf, type Command } from '../base/command-line';
import { AWS_USAGE, awsConfigFromArgs, glueNames, type AwsConfig } from '../cloud/aws-config';
import { cachePath } from '../cache/cache-db';
import { VIEW_NAMES } from '../athena/athena-views';

/** The Amazon Athena ODBC 2.x driver's registered name on Windows (64-bit Power BI Desktop). */
export const ATHENA_ODBC_DRIVER = 'Amazon Athena ODBC (x64)';
/** The SQLite ODBC driver's name (Christian Werner's sqliteodbc; Debian's libsqliteodbc registers "SQLite3"). */
export const SQLITE_ODBC_DRIVER = 'SQLite3 ODBC Driver';

/** ODBC connection-string value: braces protect `;`, `=` and braces (a `}` inside is doubled); spaces need none. */
function odbcValue(value: string): string {
  return /[;{}=]/.test(value) ? `{${value.replace(/}/g, '}}')}}` : value;
}

export function connectionString(parts: Record<string, string>): string {
  return Object.entries(parts)
    // Driver names go in braces by convention ({Amazon Athena ODBC (x64)}).
    .map(([key, value]) => `${key}=${key === 'Driver' ? `{${value}}` : odbcValue(value)}`)
    .join(';');
}

/** The Athena ODBC 2.x connection string: region, catalog, database (Schema), workgroup, output location, credentials. */
export function athenaConnectionString(config: AwsConfig, options: { catalog?: string; dsn?: string } = {}): string {
  const parts: Record<string, string> = options.dsn ? { DSN: options.dsn } : { Driver: ATHENA_ODBC_DRIVER };
  Object.assign(parts, {
    AwsRegion: config.region,
    Catalog: options.catalog ?? 'AwsDataCatalog',
    Schema: config.database,
    Workgroup: config.workgroup,
    S3OutputLocation: glueNames(config).athenaResultsPath,
    AuthenticationType: config.profile ? 'IAM Profile' : 'Default Credentials',
  });
  if (config.profile) parts.AWSProfile = config.profile;
  return connectionString(parts);
}

/**
 * The SQLite ODBC connection string of a workspace's cache. NoCreat: a wrong path fails instead of
 * creating an empty database; Timeout waits out a commit in progress.
 */
export function cacheConnectionString(workspace: string, dsn?: string): string {
  return connectionString({ ...(dsn ? { DSN: dsn } : { Driver: SQLITE_ODBC_DRIVER }), Database: cachePath(workspace), NoCreat: '1', Timeout: '5000' });
}

/** A Power BI data source file (.pbids): one ODBC connection, Import mode, no credentials inside. */
export function pbids(connection: string): { version: string; connections: unknown[] } {
  return { version: '0.1', connections: [{ details: { protocol: 'odbc', address: { connectionString: connection } }, options: {}, mode: 'Import' }] };
}

export const powerbiCommand: Command = {
  name: 'powerbi',
  summary: 'Write a Power BI data source file (.pbids) for Athena (or the local cache) over ODBC',
  usage: `Usage: pricedrop powerbi --out FILE.pbids [--source athena|cache] [--catalog NAME] [--dsn NAME] [AWS options] [--json]

Writes a Power BI data source file: opening it in Power BI Desktop starts "Get data" with the
ODBC connection filled in (Import mode). Pick the views ${VIEW_NAMES.join(', ')}:
they have the same names and columns in Athena and in the local cache, so one report works
against either. No credentials are written: Athena uses the default AWS credential chain or
--profile. Step-by-step DSN settings: docs/powerbi.md.

  --out FILE         the .pbids file to write (required)
  --source S         athena (default: the Amazon Athena ODBC 2.x driver) or cache (the SQLite
                     ODBC driver over <workspace>/cache.db; SELECTs never block PriceDrop's writes)
  --catalog NAME     Athena data catalog (default AwsDataCatalog)
  --dsn NAME         refer to an ODBC DSN you configured instead of naming the driver
  --workspace DIR    with --source cache: the workspace holding cache.db
  --json             print {"out","connection_string"} on stdout

${AWS_USAGE}`,
  async run(args, io) {
    const out = resolve(requiredFlag(args, 'out'));
    if (!out.toLowerCase().endsWith('.pbids')) throw new UsageError('--out must name a .pbids file');
    const source = stringFlag(args, 'source', 'athena');
    let connection: string;
    if (source === 'athena') {
      const config = awsConfigFromArgs(args);
      connection = athenaConnectionString(config, { catalog: stringFlag(args, 'catalog'), dsn: stringFlag(args, 'dsn') });
    } else if (source === 'cache') {
      connection = cacheConnectionString(workspaceOf(args), stringFlag(args, 'dsn'));
    } else throw new UsageError(`--source must be athena or cache, got "${source}"`);
    writeFileSync(out, JSON.stringify(pbids(connection), null, 2) + '\n');
    if (args.switches.has('json')) io.json({ out, connection_string: connection });
    else io.out(`wrote ${out}\n${connection}`);
  },
};
