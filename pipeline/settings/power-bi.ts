import { cachePath } from '../cache/cache-db';
import type { Settings } from './settings-store';

/**
 * Power BI connection details for the two places the data lives:
 * - the local cache (`cache.db`) through the SQLite ODBC driver (Debian `libsqliteodbc`, on Windows
 *   Christian Werner's "SQLite3 ODBC Driver"): a `.pbids` file Power BI Desktop opens directly;
 * - Athena through the Amazon Athena ODBC driver: the DSN fields to enter (no credentials: the
 *   driver reads the same AWS profile).
 * The cache is opened in WAL mode, so Power BI can read it while PriceDrop writes.
 */
export interface PowerBiConnection {
  /** The `.pbids` file's content (JSON) for the local cache. */
  pbids: string;
  fileName: string;
  odbcConnectionString: string;
  athenaOdbc: Record<string, string>;
}

/** ODBC braces-quote a value: `{...}` with `}` doubled. */
function odbcValue(value: string): string {
  return `{${value.replace(/}/g, '}}')}}`;
}

export function powerBiConnection(workspace: string, settings: Settings, platform: NodeJS.Platform = process.platform): PowerBiConnection {
  const database = cachePath(workspace);
  const driver = platform === 'win32' ? 'SQLite3 ODBC Driver' : 'SQLite3';
  // Read-only, no locking fights with the ETL: the driver's NoWCHAR/LongNames defaults are fine for Power BI.
  const odbcConnectionString = `Driver=${odbcValue(driver)};Database=${odbcValue(database)};ReadOnly=1;Timeout=5000`;
  const pbids = {
    version: '0.1',
    connections: [
      {
        details: { protocol: 'odbc', address: { connectionString: odbcConnectionString } },
        options: {},
        mode: 'Import',
      },
    ],
  };
  return {
    pbids: JSON.stringify(pbids, null, 2) + '\n',
    fileName: 'pricedrop-cache.pbids',
    odbcConnectionString,
    athenaOdbc: {
      Driver: 'Amazon Athena ODBC Driver',
      AwsRegion: settings.aws.region,
      Workgroup: settings.aws.athenaWorkgroup,
      Catalog: 'AwsDataCatalog',
      Schema: settings.aws.glueDatabase,
      ...(settings.aws.athenaOutput ? { S3OutputLocation: settings.aws.athenaOutput } : {}),
      AuthenticationType: 'IAM Profile',
      AWSProfile: settings.aws.profile,
    },
  };
}
