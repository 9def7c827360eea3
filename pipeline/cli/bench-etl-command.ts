import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { numberFlag, type Command } from '../base/command-line';
import { benchLocalEtl, generateBenchLakeApart, runReference } from '../etl/bench-etl';

export const benchEtlCommand: Command = {
  name: 'bench etl',
  summary: 'Benchmark the local ETL (raw CSV to cache) against sqlite3 .import + cleaning SQL',
  usage: `Usage: pricedrop bench etl [--rows N] [--sqlite3 PATH] [--keep] [--json]

Generates N raw rows (about 1 % bad rows of every reason and 1 % duplicates, files of 100,000 rows)
in a temporary workspace, times runLocalEtl over them (worker thread, real cache), then times the
reference on the same files: Debian's sqlite3 CLI with .import --csv and the equivalent cleaning SQL
into a table with the same key and index.

  --rows N         rows to generate (default 1000000)
  --sqlite3 PATH   the sqlite3 CLI (default /usr/bin/sqlite3, else sqlite3 on PATH)
  --keep           keep the temporary workspace and print its path
  --json           print {"rows","rows_per_s","peak_rss_mb","reference_rows_per_s"} on stdout`,
  booleanFlags: ['keep'],
  async run(args, io) {
    const rows = numberFlag(args, 'rows', 1_000_000, { min: 1000, integer: true });
    const sqlite3 = args.flags.get('sqlite3') ?? (existsSync('/usr/bin/sqlite3') ? '/usr/bin/sqlite3' : 'sqlite3');
    const workspace = mkdtempSync(join(tmpdir(), 'pricedrop-bench-etl-'));
    try {
      io.log(`generating ${rows.toLocaleString('en-US')} raw rows in ${workspace}`);
      const generated = await generateBenchLakeApart(workspace, rows);
      io.log(`${generated.files.length} files, ${generated.bad} bad rows, ${generated.duplicates} duplicate lines`);
      const { summary, seconds, cpuSeconds } = await benchLocalEtl(workspace);
      const peakRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
      io.log(`pricedrop etl: ${seconds.toFixed(2)} s wall, ${cpuSeconds.toFixed(2)} s CPU (all threads) ${JSON.stringify(summary)}`);
      if (summary.read !== rows) throw new Error(`the ETL read ${summary.read} rows, expected ${rows}`);
      const reference = runReference(sqlite3, join(workspace, 'reference.db'), generated.files);
      if (reference) io.log(`sqlite3 reference: ${reference.seconds.toFixed(2)} s wall${reference.cpuSeconds !== undefined ? `, ${reference.cpuSeconds.toFixed(2)} s CPU` : ''} (read ${reference.read}, cleaned ${reference.cleaned}, quarantined ${reference.quarantined})`);
      else io.log(`sqlite3 not found at ${sqlite3}: no reference (apt-get install -y sqlite3)`);
      const result = {
        rows,
        rows_per_s: Math.round(rows / seconds),
        peak_rss_mb: peakRssMb,
        reference_rows_per_s: reference ? Math.round(rows / reference.seconds) : null,
      };
      if (args.switches.has('json')) io.json(result);
      else io.out(`${result.rows_per_s.toLocaleString('en-US')} rows/s (reference ${result.reference_rows_per_s?.toLocaleString('en-US') ?? 'n/a'}), peak RSS ${result.peak_rss_mb} MB`);
    } finally {
      if (args.switches.has('keep')) io.log(`kept ${workspace}`);
      else rmSync(workspace, { recursive: true, force: true });
    }
  },
};
