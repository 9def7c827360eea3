import { CreateWorkGroupCommand, GetWorkGroupCommand, UpdateWorkGroupCommand } from '@aws-sdk/client-athena';
import { awsErrorCode, callAws } from '../cloud/aws-calls';
import { glueNames } from '../cloud/aws-config';
import type { CloudSetupStep, StepResult } from '../cloud/cloud-setup';
import { runQuery } from './athena-query';
import { athenaViewSql, VIEW_NAMES } from './athena-views';

/** Per-query scan cutoff of the workgroup: a runaway query is CANCELLED past 10 GB (about $0.05). */
export const BYTES_SCANNED_CUTOFF = 10 * 1024 ** 3;

/**
 * The Athena part of `cloud setup`, appended to CLOUD_SETUP_STEPS: the workgroup (results in
 * the bucket's athena-results/, enforced, engine v3, CloudWatch metrics, a scan cutoff), then
 * the four Power BI views created from pipeline/athena/sql/*.sql (CREATE OR REPLACE: idempotent).
 */
export const ATHENA_SETUP_STEPS: readonly CloudSetupStep[] = [
  {
    id: 'athena-workgroup',
    title: 'Athena workgroup',
    async run({ config, clients, retry }): Promise<StepResult> {
      const outputLocation = glueNames(config).athenaResultsPath;
      const wanted = {
        ResultConfiguration: { OutputLocation: outputLocation },
        EnforceWorkGroupConfiguration: true,
        PublishCloudWatchMetricsEnabled: true,
        BytesScannedCutoffPerQuery: BYTES_SCANNED_CUTOFF,
        EngineVersion: { SelectedEngineVersion: 'Athena engine version 3' },
      };
      let current;
      try {
        current = (await callAws('GetWorkGroup', () => clients.athena.send(new GetWorkGroupCommand({ WorkGroup: config.workgroup })), retry)).WorkGroup;
      } catch (error) {
        // Athena answers an unknown workgroup with InvalidRequestException ("WorkGroup ... is not found").
        if (awsErrorCode(error) !== 'InvalidRequestException' || !/not found/i.test(error instanceof Error ? error.message : '')) throw error;
      }
      if (!current) {
        await callAws(
          'CreateWorkGroup',
          () => clients.athena.send(new CreateWorkGroupCommand({ Name: config.workgroup, Description: 'PriceDrop: dashboards, cloud sync, Power BI', Configuration: wanted })),
          retry,
        );
        return { outcome: 'created', detail: `${config.workgroup}, results in ${outputLocation}` };
      }
      const c = current.Configuration;
      const same =
        c?.ResultConfiguration?.OutputLocation === outputLocation &&
        c?.EnforceWorkGroupConfiguration === true &&
        c?.PublishCloudWatchMetricsEnabled === true &&
        c?.BytesScannedCutoffPerQuery === BYTES_SCANNED_CUTOFF;
      if (same) return { outcome: 'unchanged' };
      await callAws(
        'UpdateWorkGroup',
        () =>
          clients.athena.send(
            new UpdateWorkGroupCommand({
              WorkGroup: config.workgroup,
              ConfigurationUpdates: {
                ResultConfigurationUpdates: { OutputLocation: outputLocation },
                EnforceWorkGroupConfiguration: true,
                PublishCloudWatchMetricsEnabled: true,
                BytesScannedCutoffPerQuery: BYTES_SCANNED_CUTOFF,
              },
            }),
          ),
        retry,
      );
      return { outcome: 'updated', detail: `results in ${outputLocation}` };
    },
  },
  {
    id: 'athena-views',
    title: 'Athena views for Power BI',
    async run({ config, clients, retry, log }): Promise<StepResult> {
      const target = { workgroup: config.workgroup, database: config.database, outputLocation: glueNames(config).athenaResultsPath };
      for (const name of VIEW_NAMES) {
        await runQuery(clients.athena, athenaViewSql(name), target, { retry, ...(retry?.sleep ? { sleep: retry.sleep } : {}) });
        log(`  view ${config.database}.${name}`);
      }
      return { outcome: 'updated', detail: VIEW_NAMES.join(', ') };
    },
  },
];
