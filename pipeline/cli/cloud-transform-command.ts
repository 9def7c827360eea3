import { numberFlag, type Command } from '../base/command-line';
import { AWS_USAGE, awsConfigFromArgs, createAwsClients, destroyAwsClients, glueNames } from '../cloud/aws-config';
import { startJobRun, waitForJobRun } from '../cloud/glue-runs';

export const cloudTransformCommand: Command = {
  name: 'cloud transform',
  summary: 'Run the Glue cleaning job (new raw files only) and wait for it',
  usage: `Usage: pricedrop cloud transform --bucket NAME [AWS options] [--min-drop-pct P] [--poll-seconds S] [--timeout-minutes M] [--json]

Starts the cleaning job (joins the run in progress when the job is already running), waits for
its final state, and fails with Glue's own ErrorMessage on FAILED, ERROR, TIMEOUT or STOPPED.
Job bookmarks make each run process only raw files added since the last successful one.

${AWS_USAGE}
  --min-drop-pct P     is_drop threshold passed to the job (default: the job's, 0.01)
  --poll-seconds S     delay between status polls (default 15)
  --timeout-minutes M  stop waiting after M minutes (default 180; the run goes on in AWS)
  --json               print {"job","run_id","state","already_running","execution_time_s"}`,
  async run(args, io) {
    const config = awsConfigFromArgs(args);
    const pollMs = numberFlag(args, 'poll-seconds', 15, { min: 0 }) * 1000;
    const timeoutMs = numberFlag(args, 'timeout-minutes', 180, { min: 0 }) * 60_000;
    const jobArgs: Record<string, string> = {};
    if (args.flags.has('min-drop-pct')) jobArgs['--min_drop_pct'] = String(numberFlag(args, 'min-drop-pct', 0.01, { min: 0 }));
    const clients = createAwsClients(config);
    const name = glueNames(config).job;
    try {
      const start = await startJobRun(clients.glue, name, jobArgs);
      io.log(start.started ? `job ${name} started: run ${start.runId}` : `job ${name} was already running: waiting for run ${start.runId}`);
      const run = await waitForJobRun(clients.glue, name, start.runId, { pollMs, timeoutMs, onPoll: (state, elapsed) => io.progress(`job ${name} ${state}`, Math.round(elapsed / 1000)) });
      const report = { job: name, run_id: start.runId, state: run.JobRunState, already_running: !start.started, execution_time_s: run.ExecutionTime ?? null };
      if (args.switches.has('json')) io.json(report);
      else io.out(`job ${name} run ${start.runId}: ${run.JobRunState}`);
    } finally {
      destroyAwsClients(clients);
    }
  },
};
