import { runLocalEtl, type EtlSummary } from '../etl/local-etl';
import type { CoreEvents, EventSink } from '../api/event-bus';
import type { TaskContext, TaskRun } from './task-runner';

/**
 * The Pipeline screen's long actions as tasks: each returns its run at once; progress arrives as
 * `task/updated` events and the run lands in the history. The work is the owning module's
 * (runLocalEtl here); this file only starts it under the task runner.
 */
export function pipelineActionHandlers(ctx: TaskContext) {
  return {
    /** Runs the local ETL over the raw files not yet processed (off the main thread), cancellable. */
    'pipeline/etl-run': async (): Promise<TaskRun> =>
      ctx.tasks.start('etl', 'Local ETL: new raw files → cache', async (task) => {
        task.progress(0, undefined, 'Looking for new raw files');
        const summary = await runLocalEtl({
          workspace: ctx.workspace,
          signal: task.signal,
          onProgress: (p) => task.progress(p.filesDone, p.filesTotal, `${p.filesDone} / ${p.filesTotal} files · ${p.rowsRead.toLocaleString('en-US')} rows read`),
        });
        task.progress(
          summary.files,
          summary.files,
          summary.files === 0
            ? 'Nothing new: every raw file in the lake is already in the cache'
            : `${summary.files} file${summary.files === 1 ? '' : 's'}: ${summary.cleaned} cleaned, ${summary.duplicates} duplicates, ${summary.quarantined} quarantined`,
        );
        announceLocalEtl(ctx.events, summary);
        return summary;
      }),
  };
}

/** Tells the UI (dashboards, alerts) that a local ETL pass committed new rows; silent when it found nothing. */
export function announceLocalEtl(events: EventSink<CoreEvents>, summary: EtlSummary): void {
  if (summary.files > 0) events.emit('data/changed', { origin: 'local', rows: summary.cleaned, at: new Date().toISOString() });
}
