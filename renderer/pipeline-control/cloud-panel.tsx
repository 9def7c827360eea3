import { useState, type ReactNode } from 'react';
import { invoke } from '../api-client';
import type { HandlerResult } from '../../pipeline/app/contract';
import { EmptyState, ErrorBanner, Panel, errorText, formatDateTime, useLoad } from '../components/ui';
import { TaskStatus, type TaskRun, type useTasks } from '../components/tasks';
import { routeHref } from '../navigation';

type Settings = HandlerResult<'settings/get'>;
type Estimate = HandlerResult<'cloud/sync-estimate'>;

function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

/** One Glue step of the cloud pipeline: what it does, a button that starts it as a task, its latest run. */
function GlueStep({ tasks, kind, title, action, run, children }: { tasks: ReturnType<typeof useTasks>; kind: 'crawl' | 'transform'; title: string; action: string; run: () => Promise<TaskRun>; children: ReactNode }) {
  return (
    <div className="cloud-step">
      <div className="cloud-step-head">
        <strong>{title}</strong>
        <span className="muted small">{children}</span>
        <button type="button" className="button small" disabled={!!tasks.running(kind)} onClick={() => void tasks.start(run)} data-testid={`cloud-${kind}`}>
          {action}
        </button>
      </div>
      <TaskStatus run={tasks.latest(kind)} testId={`${kind}-status`} />
    </div>
  );
}

/** AWS mode: Glue crawl and transform, then the Athena sync into the cache (its scan cost shown first), each a task. */
export function CloudPanel({ tasks, settings }: { tasks: ReturnType<typeof useTasks>; settings: Settings | undefined }) {
  const status = useLoad(() => invoke('cloud/status'), [settings?.aws.bucket, settings?.aws.glueDatabase, tasks.latest('sync')?.status]);
  const [estimate, setEstimate] = useState<Estimate | null>(null);
  const [estimateError, setEstimateError] = useState<string | null>(null);
  const [estimating, setEstimating] = useState(false);
  const aws = settings?.aws;
  const names = status.value?.names;

  if (!aws?.bucket) {
    return (
      <Panel title="AWS: Glue and Athena" testId="cloud-panel">
        <EmptyState title="No bucket set">
          Set the bucket, region and Glue database in <a href={routeHref('settings')}>Settings</a>. Credentials come from your AWS profile, never from PriceDrop.
        </EmptyState>
      </Panel>
    );
  }

  const estimateNow = () => {
    setEstimating(true);
    invoke('cloud/sync-estimate')
      .then((e) => {
        setEstimate(e);
        setEstimateError(null);
      })
      .catch((e: unknown) => setEstimateError(errorText(e)))
      .finally(() => setEstimating(false));
  };

  return (
    <Panel title="AWS: Glue and Athena" testId="cloud-panel">
      <div className="muted small">
        {aws.profile ? `profile ${aws.profile}` : 'default credentials'} · {aws.region} · s3://{aws.bucket} · database {aws.glueDatabase} · workgroup {aws.athenaWorkgroup}
      </div>
      <ErrorBanner error={status.error ?? tasks.error} />
      <div className="cloud-steps">
        <GlueStep tasks={tasks} kind="crawl" title="1. Crawl" action="Run crawler" run={() => invoke('cloud/crawl')}>
          {names?.crawler} catalogues new raw partitions
        </GlueStep>
        <GlueStep tasks={tasks} kind="transform" title="2. Transform" action="Run job" run={() => invoke('cloud/transform')}>
          {names?.job} cleans new raw files into {names?.cleanedTable}
        </GlueStep>
        <div className="cloud-step">
          <div className="cloud-step-head">
            <strong>3. Sync</strong>
            <span className="muted small">
              Athena → cache, rows after {status.value?.watermark ? formatDateTime(status.value.watermark) : 'the beginning'}
            </span>
            <button type="button" className="button small" disabled={estimating} onClick={estimateNow} data-testid="cloud-estimate">
              {estimating ? 'Estimating…' : 'Estimate cost'}
            </button>
            <button
              type="button"
              className="button small primary"
              disabled={!estimate || !!tasks.running('sync')}
              title={estimate ? undefined : 'Estimate the scan cost first'}
              onClick={() => {
                setEstimate(null);
                void tasks.start(() => invoke('cloud/sync'));
              }}
              data-testid="cloud-sync"
            >
              Sync
            </button>
          </div>
          {estimate && (
            <div className="banner info" data-testid="sync-estimate">
              Estimated scan: up to {megabytes(estimate.bytes)} in {estimate.objects} files{estimate.since_day ? ` (partitions from ${estimate.since_day})` : ''}, billed as{' '}
              {megabytes(estimate.cost.bytesBilled)}: about ${estimate.cost.costUsd.toFixed(4)} at ${estimate.price_per_tb_usd}/TB.
            </div>
          )}
          <ErrorBanner error={estimateError} prefix="Could not estimate" />
          <TaskStatus run={tasks.latest('sync')} testId="sync-status" />
        </div>
      </div>
    </Panel>
  );
}
