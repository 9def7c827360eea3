import type { HandlerResult } from '../../pipeline/api/contract';
import { EmptyState, Panel } from '../components/ui';
import type { useTasks } from '../components/tasks';
import { routeHref } from '../navigation';

type Settings = HandlerResult<'settings/get'>;

/** AWS mode: Glue crawl and transform, then the Athena sync into the cache, each as a task with progress and cancel. */
export function CloudPanel({ settings }: { tasks: ReturnType<typeof useTasks>; settings: Settings | undefined }) {
  const aws = settings?.aws;
  return (
    <Panel title="AWS: Glue and Athena" testId="cloud-panel">
      <dl className="counters">
        <div className="counter">
          <dt>Profile · region</dt>
          <dd>
            {aws?.profile} · {aws?.region}
          </dd>
        </div>
        <div className="counter">
          <dt>Glue database</dt>
          <dd>{aws?.glueDatabase}</dd>
        </div>
        <div className="counter">
          <dt>Athena workgroup</dt>
          <dd>{aws?.athenaWorkgroup}</dd>
        </div>
      </dl>
      {!aws?.bucket && (
        <EmptyState title="No bucket set">
          Set the bucket and Glue names in <a href={routeHref('settings')}>Settings</a>. Credentials come from your AWS profile, never from PriceDrop.
        </EmptyState>
      )}
    </Panel>
  );
}
