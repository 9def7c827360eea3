import { UsageError, numberFlag, workspaceOf, type Command } from '../base/command-line';
import { MappingError, displayPath, importHistory } from '../../producer/history-import';
import { logMigrations } from '../cache/cache-db';
import { runLocalEtl } from '../etl/local-etl';
import { isSourceKind, recordSourceKinds } from '../forecasting/source-kinds';

export const importCommand: Command = {
  name: 'import',
  summary: 'Bring price-history CSV files into the lake and through the ETL',
  usage: `Usage: pricedrop import PATH... [--map FIELD=COL,...] [--date-from-filename] [--currency C] [--source NAME]
                        [--kind snapshots|changes] [--workspace DIR] [--min-drop-pct P] [--json]

Copies each CSV file (or every *.csv under a folder) into DIR/lake/price-stream/ as raw batches,
mapping its columns onto the raw format, then runs the ETL (same rules, same quarantine).

  --map FIELD=COL,...    which input column feeds each raw field: product_id, title, category, price,
                         old_price, currency, source, observed_at (FIELD=const:VALUE for a constant).
                         Unmapped fields use a column of the same name when there is one.
                         Without a product_id column, a stable id is derived from the title.
  --date-from-filename   observed_at (00:00 UTC) from a YYYY-MM-DD in the file name, when the row has none
  --currency C           currency for files without a currency column (e.g. ZAR)
  --source NAME          source for files without a source column (default: import)
  --kind K               what the files are: "snapshots" (every tracked product at each scrape, so
                         a product missing from one is unknown) or "changes" (a change log: no row
                         means the price held). Stored for each source of the files and never
                         overwritten; without it the kind is detected from the data and printed
  --json                 print {"files","read","cleaned","duplicates","quarantined"} on stdout

Example (Pick n Pay weekly snapshots):
  pricedrop import ../shared/data/pnp_weekly --map title=name,price=price,old_price=old_price \\
    --date-from-filename --currency ZAR --source pnp`,
  booleanFlags: ['date-from-filename'],
  async run(args, io) {
    if (args.positional.length === 0) throw new UsageError('give at least one PATH (a CSV file or a folder)');
    const workspace = workspaceOf(args);
    const minDropPct = numberFlag(args, 'min-drop-pct', 0.01, { min: 0 });
    const currency = args.flags.get('currency');
    const source = args.flags.get('source');
    if (currency !== undefined && !/^[A-Za-z]{3}$/.test(currency)) throw new UsageError(`--currency must be a 3-letter code, got "${currency}"`);
    const kind = args.flags.get('kind');
    if (kind !== undefined && !isSourceKind(kind)) throw new UsageError(`--kind must be snapshots or changes, got "${kind}"`);
    let imported;
    try {
      imported = importHistory({
        workspace,
        paths: args.positional,
        map: args.flags.get('map'),
        dateFromFilename: args.switches.has('date-from-filename'),
        currency: currency?.toUpperCase(),
        source,
        onFile: (file) => io.log(`${displayPath(file.input)}: ${file.lakeKeys.length === 0 && file.rows === 0 ? 'already imported' : `${file.rows} rows`}`),
      });
    } catch (error) {
      if (error instanceof MappingError) throw new UsageError(error.message);
      throw error;
    }
    const malformed = imported.reduce((n, file) => n + file.malformed, 0);
    const summary = await runLocalEtl({
      workspace,
      ...logMigrations(io.log),
      minDropPct,
      onProgress: (p) => {
        if (p.file) io.progress(`etl ${p.filesDone + 1}/${p.filesTotal} files`, p.rowsRead);
      },
    });
    // The sources of these files; a file imported before names none, so --source stands in for it.
    const sources = new Set(imported.flatMap((file) => file.sources));
    if (source !== undefined) sources.add(source);
    if (sources.size > 0) for (const line of recordSourceKinds(workspace, { sources: [...sources], kind })) io.log(line);
    const result = {
      files: imported.length,
      read: summary.read + malformed,
      cleaned: summary.cleaned,
      duplicates: summary.duplicates,
      quarantined: summary.quarantined + malformed,
    };
    if (args.switches.has('json')) io.json(result);
    else io.out(`${result.files} files imported, ${result.read} rows read: ${result.cleaned} cleaned, ${result.duplicates} duplicates, ${result.quarantined} quarantined`);
  },
};
