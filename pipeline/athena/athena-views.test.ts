import { join } from 'node:path';
import {
  AthenaClient,
  CreateWorkGroupCommand,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  GetWorkGroupCommand,
  InvalidRequestException,
  StartQueryExecutionCommand,
  UpdateWorkGroupCommand,
} from '@aws-sdk/client-athena';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { openCache } from '../cache/cache-db';
import { createObservationWriter, type CleanRow } from '../cache/observation-writer';
import type { AwsClients } from '../cloud/aws-config';
import type { CloudContext } from '../cloud/cloud-setup';
import { kpis, topCategories } from '../dashboard/dashboard-queries';
import { athenaOutput } from '../../test/support/aws-athena-samples';
import { useTempDirs } from '../../test/support/temp-dirs';
import { ATHENA_SETUP_STEPS, BYTES_SCANNED_CUTOFF } from './athena-setup-steps';
import { athenaViewColumns, athenaViewSql, VIEW_NAMES } from './athena-views';

const tempDir = useTempDirs('pricedrop-views-');

function row(i: number): CleanRow {
  const dropPct = i % 3 === 0 ? (i % 23) + 0.5 : i % 5 === 0 ? null : 0;
  const dt = `2026-02-${String(1 + (i % 20)).padStart(2, '0')}`;
  return {
    source: i % 2 ? 'a' : 'b',
    product_id: `p${i % 41}`,
    observed_at: `${dt}T${String(i % 24).padStart(2, '0')}:00:${String(i % 60).padStart(2, '0')}.000Z`,
    dt,
    title: `t${i % 41}`,
    category: `c${i % 41 % 6}`,
    price: 9,
    old_price: dropPct === null ? null : 10,
    currency: 'EUR',
    drop_amount: dropPct === null ? null : 1,
    drop_pct: dropPct,
    is_drop: dropPct !== null && dropPct > 0,
    drop_label: dropPct !== null && dropPct > 0 ? 'drop' : 'no drop',
  };
}

describe('Power BI views', () => {
  it('the cache defines the Athena views with the same names and columns, in the same order', () => {
    const dir = tempDir();
    const db = openCache(join(dir, 'cache.db'));
    for (const name of VIEW_NAMES) {
      const columns = (db.prepare(`PRAGMA table_info(${name})`).all() as { name: string }[]).map((c) => c.name);
      expect(columns, name).toEqual(athenaViewColumns(name));
      expect(athenaViewSql(name)).toMatch(new RegExp(`^CREATE OR REPLACE VIEW ${name} AS`));
    }
    db.close();
  });

  it("the cache's views give the dashboard's numbers", () => {
    const dir = tempDir();
    const db = openCache(join(dir, 'cache.db'));
    const writer = createObservationWriter(db);
    db.transaction(() => {
      writer.writeBatch(Array.from({ length: 1500 }, (_, i) => row(i)));
      writer.flush();
    })();
    const view = db.prepare('SELECT * FROM v_price_drop_kpis').get() as Record<string, number>;
    const panel = kpis(db, {});
    expect(view).toMatchObject({ observations: panel.observations, products_analysed: panel.products_analysed, products_with_drop: panel.products_with_drop });
    expect(view.avg_drop_pct).toBeCloseTo(panel.avg_drop_pct as number, 2);
    const categories = db.prepare('SELECT category, observations, drops FROM v_category_drops ORDER BY category').all();
    expect(categories).toEqual(
      topCategories(db, {}, 100)
        .map((c) => ({ category: c.category, observations: c.observations, drops: c.drops }))
        .sort((a, b) => (a.category < b.category ? -1 : 1)),
    );
    const trend = db.prepare('SELECT SUM(observations) AS n, SUM(drops) AS d FROM v_drop_trend_daily').get();
    expect(trend).toEqual({ n: panel.observations, d: db.prepare('SELECT SUM(is_drop) FROM observations').pluck().get() });
    const latest = db.prepare('SELECT COUNT(*) AS n, COUNT(DISTINCT source || product_id) AS distinct_products FROM v_product_latest').get();
    expect(latest).toEqual({ n: 82, distinct_products: 82 });
    db.close();
  });
});

describe('Athena setup steps', () => {
  const athenaMock = mockClient(AthenaClient);
  const athena = new AthenaClient({ region: 'eu-west-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  const context: CloudContext = {
    config: { bucket: 'pricedrop-test-lake', region: 'eu-west-1', database: 'pricedrop', workgroup: 'pricedrop', role: 'r' },
    clients: { athena } as unknown as AwsClients,
    glueDir: '',
    log: () => undefined,
    retry: { sleep: async () => undefined },
  };
  beforeEach(() => {
    athenaMock.reset();
    athenaMock.on(StartQueryExecutionCommand).resolves(athenaOutput('start-query-execution-ok.json'));
    athenaMock.on(GetQueryExecutionCommand).resolves(athenaOutput('get-query-execution-succeeded.json'));
    athenaMock.on(GetQueryResultsCommand).resolves({ ResultSet: { Rows: [], ResultSetMetadata: { ColumnInfo: [] } } });
  });

  it('creates the workgroup (results location enforced, scan cutoff) and the four views', async () => {
    athenaMock
      .on(GetWorkGroupCommand)
      .rejects(new InvalidRequestException({ $metadata: { httpStatusCode: 400 }, message: 'WorkGroup pricedrop is not found.', Message: 'WorkGroup pricedrop is not found.' } as never));
    athenaMock.on(CreateWorkGroupCommand).resolves({});
    const outcomes = [];
    for (const step of ATHENA_SETUP_STEPS) outcomes.push([step.id, (await step.run(context)).outcome]);
    expect(outcomes).toEqual([
      ['athena-workgroup', 'created'],
      ['athena-views', 'updated'],
    ]);
    expect(athenaMock.commandCalls(CreateWorkGroupCommand)[0]?.args[0].input).toMatchObject({
      Name: 'pricedrop',
      Configuration: { ResultConfiguration: { OutputLocation: 's3://pricedrop-test-lake/athena-results/' }, EnforceWorkGroupConfiguration: true, BytesScannedCutoffPerQuery: BYTES_SCANNED_CUTOFF },
    });
    const statements = athenaMock.commandCalls(StartQueryExecutionCommand).map((c) => c.args[0].input);
    expect(statements.map((s) => /VIEW (\w+)/.exec(s.QueryString ?? '')?.[1])).toEqual([...VIEW_NAMES]);
    expect(statements.every((s) => s.WorkGroup === 'pricedrop' && s.QueryExecutionContext?.Database === 'pricedrop')).toBe(true);
  });

  it('leaves a matching workgroup unchanged and updates a drifted one', async () => {
    const configuration = {
      ResultConfiguration: { OutputLocation: 's3://pricedrop-test-lake/athena-results/' },
      EnforceWorkGroupConfiguration: true,
      PublishCloudWatchMetricsEnabled: true,
      BytesScannedCutoffPerQuery: BYTES_SCANNED_CUTOFF,
    };
    athenaMock.on(GetWorkGroupCommand).resolves({ WorkGroup: { Name: 'pricedrop', Configuration: configuration } });
    expect((await ATHENA_SETUP_STEPS[0]!.run(context)).outcome).toBe('unchanged');
    athenaMock.on(GetWorkGroupCommand).resolves({ WorkGroup: { Name: 'pricedrop', Configuration: { ...configuration, EnforceWorkGroupConfiguration: false } } });
    athenaMock.on(UpdateWorkGroupCommand).resolves({});
    expect((await ATHENA_SETUP_STEPS[0]!.run(context)).outcome).toBe('updated');
    expect(athenaMock.commandCalls(UpdateWorkGroupCommand)).toHaveLength(1);
  });
});
