import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { requiredFlag, stringFlag, UsageError, workspaceOf, type Command } from '../base/command-line';
import { AWS_USAGE, awsConfigFromArgs } from '../cloud/aws-config';
import { athenaConnectionString, cacheConnectionString, pbids } from '../athena/odbc-connections';
import { VIEW_NAMES } from '../athena/athena-views';

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
