import { athenaConnectionString, cacheConnectionString, pbids } from '../athena/odbc-connections';
import { awsConfigFromSettings } from './aws-settings';
import type { Settings } from './settings-store';

/**
 * The Settings screen's Power BI details: the same connection strings and `.pbids` files as
 * `pricedrop powerbi` (pipeline/athena/odbc-connections.ts, docs/powerbi.md), for the local cache and,
 * once a bucket is set, for Athena. No credentials in either: Athena uses the AWS profile.
 */
export interface PowerBiFile {
  fileName: string;
  /** The `.pbids` file's content (JSON). */
  pbids: string;
  connectionString: string;
}

export interface PowerBiConnection {
  cache: PowerBiFile;
  /** Null until the AWS settings name a bucket. */
  athena: PowerBiFile | null;
}

export function powerBiConnection(workspace: string, settings: Settings): PowerBiConnection {
  const file = (fileName: string, connection: string): PowerBiFile => ({ fileName, pbids: JSON.stringify(pbids(connection), null, 2) + '\n', connectionString: connection });
  // As `pricedrop powerbi --source cache`: NoCreat so a wrong path fails instead of creating an empty database.
  const cache = file('pricedrop-cache.pbids', cacheConnectionString(workspace));
  const athena = settings.aws.bucket ? file('pricedrop-athena.pbids', athenaConnectionString(awsConfigFromSettings(settings))) : null;
  return { cache, athena };
}
