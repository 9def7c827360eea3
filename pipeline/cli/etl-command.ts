import { numberFlag, workspaceOf, type Command } from '../base/command-line';
import { logMigrations } from '../cache/cache-db';
import { runLocalEtl } from '../etl/local-etl';
import { recordSourceKinds } from '../forecasting/source-kinds';

export const etlCommand: Command = {
  name: 'etl',
  summary: 'Clean the raw files not yet processed into the cache (quarantine bad rows)',
  usage: `Usage: pricedrop etl [--workspace DIR] [--min-drop-pct P] [--json]

Runs the cleaning rules (docs/etl-rules.md) over DIR/lake/price-stream/dt=*/*.csv files that the
manifest does not list yet, writes cleaned rows into DIR/cache.db and quarantined rows with their
reason codes into DIR/quarantine/. Re-running is a no-op; a crash mid-run leaves no half file.

  --workspace DIR      the workspace (default: $PRICEDROP_HOME or the per-user data folder)
  --min-drop-pct P     smallest drop, in percent, labelled "drop" (default 0.01)
  --json               print {"files","read","cleaned","duplicates","quarantined"} on stdout`,
  async run(args, io) {
    const workspace = workspaceOf(args);
    const minDropPct = numberFlag(args, 'min-drop-pct', 0.01, { min: 0 });
    const summary = await runLocalEtl({
      workspace,
      ...logMigrations(io.log),
      minDropPct,
      onProgress: (p) => {
        if (p.file) io.progress(`etl ${p.filesDone + 1}/${p.filesTotal} files`, p.rowsRead);
      },
    });
    if (summary.files > 0) for (const line of recordSourceKinds(workspace)) io.log(line);
    const result = { files: summary.files, read: summary.read, cleaned: summary.cleaned, duplicates: summary.duplicates, quarantined: summary.quarantined };
    if (args.switches.has('json')) io.json(result);
    else io.out(`${result.files} files, ${result.read} rows read: ${result.cleaned} cleaned, ${result.duplicates} duplicates, ${result.quarantined} quarantined`);
  },
};
