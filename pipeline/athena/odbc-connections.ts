import { cachePath } from '../cache/cache-db';
import { glueNames, type AwsConfig } from '../cloud/aws-config';

/**
 * How Power BI reaches PriceDrop's data over ODBC: the Athena and SQLite-cache connection strings
 * and the `.pbids` files that carry them (docs/powerbi.md), shared by `pricedrop powerbi` and the
 * Settings screen. No credentials in either: Athena uses the AWS profile.
 */

/** The Amazon Athena ODBC 2.x driver's registered name on Windows (64-bit Power BI Desktop). */
const ATHENA_ODBC_DRIVER = 'Amazon Athena ODBC (x64)';
/** The SQLite ODBC driver's name (Christian Werner's sqliteodbc; Debian's libsqliteodbc registers "SQLite3"). */
const SQLITE_ODBC_DRIVER = 'SQLite3 ODBC Driver';

/** ODBC connection-string value: braces protect `;`, `=` and braces (a `}` inside is doubled); spaces need none. */
function odbcValue(value: string): string {
  return /[;{}=]/.test(value) ? `{${value.replace(/}/g, '}}')}}` : value;
}

function connectionString(parts: Record<string, string>): string {
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
