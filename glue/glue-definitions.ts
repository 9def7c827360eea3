/**
 * The AWS Glue side of PriceDrop as data: the raw CSV classifier, the crawler over the raw lake,
 * the cleaning job and the Athena table over its output. `pricedrop cloud setup`
 * (pipeline/cloud/cloud-setup.ts) creates or updates exactly these.
 */
import type { CreateClassifierRequest, CreateCrawlerRequest, CreateJobRequest, TableInput } from '@aws-sdk/client-glue';
import { RAW_COLUMNS } from '../pipeline/base/raw-format';

export interface GlueDefinitionInput {
  bucket: string;
  database: string;
  role: string;
  crawler: string;
  job: string;
  classifier: string;
  rawTable: string;
  cleanedTable: string;
}

/**
 * The files `cloud setup` uploads to `s3://bucket/glue-scripts/` under their base names (paths
 * relative to glue/). The category synonyms are the rules' data, shared with the local ETL, so
 * they live with the rules in pipeline/base.
 */
export const GLUE_SCRIPT_FILES = ['clean_observations.py', 'price_rules.py', '../pipeline/base/category_synonyms.json'] as const;

export function rawCsvClassifier(input: GlueDefinitionInput): CreateClassifierRequest {
  return {
    CsvClassifier: {
      Name: input.classifier,
      Delimiter: ',',
      QuoteSymbol: '"',
      ContainsHeader: 'PRESENT',
      Header: [...RAW_COLUMNS],
      DisableValueTrimming: true,
      AllowSingleColumn: false,
      // Every raw column is read as a string: the job's rules parse them (a price like "1,99" must reach the rules, not become null).
      CustomDatatypeConfigured: true,
      CustomDatatypes: ['STRING'],
      Serde: 'OpenCSVSerDe',
    },
  };
}

/** The crawler over `price-stream/`: one table, partitions added as new dt= folders appear. */
export function rawCrawler(input: GlueDefinitionInput): CreateCrawlerRequest {
  return {
    Name: input.crawler,
    Role: input.role,
    DatabaseName: input.database,
    Description: 'PriceDrop raw observations (CSV, partitioned by dt)',
    Classifiers: [input.classifier],
    Targets: { S3Targets: [{ Path: `s3://${input.bucket}/price-stream/`, Exclusions: ['**.tmp', '**/_*'] }] },
    // New folders only: a re-crawl lists new dt= partitions instead of re-reading the lake.
    RecrawlPolicy: { RecrawlBehavior: 'CRAWL_NEW_FOLDERS_ONLY' },
    SchemaChangePolicy: { UpdateBehavior: 'LOG', DeleteBehavior: 'LOG' },
    Configuration: JSON.stringify({ Version: 1.0, Grouping: { TableGroupingPolicy: 'CombineCompatibleSchemas' }, CrawlerOutput: { Partitions: { AddOrUpdateBehavior: 'InheritFromTable' } } }),
    Tags: { application: 'pricedrop' },
  };
}

/** The cleaning job: Glue 5.0 (Spark 3.5, Python 3.11), bookmarks on, 2 G.1X workers. */
export function cleaningJob(input: GlueDefinitionInput): CreateJobRequest {
  const scripts = `s3://${input.bucket}/glue-scripts/`;
  return {
    Name: input.job,
    Role: input.role,
    Description: 'PriceDrop: raw observations -> cleaned Parquet (docs/etl-rules.md)',
    GlueVersion: '5.0',
    WorkerType: 'G.1X',
    NumberOfWorkers: 2,
    Timeout: 60,
    MaxRetries: 0,
    ExecutionProperty: { MaxConcurrentRuns: 1 },
    Command: { Name: 'glueetl', ScriptLocation: `${scripts}clean_observations.py`, PythonVersion: '3' },
    DefaultArguments: {
      '--job-language': 'python',
      '--job-bookmark-option': 'job-bookmark-enable',
      '--extra-py-files': `${scripts}price_rules.py`,
      '--extra-files': `${scripts}category_synonyms.json`,
      '--TempDir': `s3://${input.bucket}/glue-temp/`,
      '--enable-metrics': 'true',
      '--enable-continuous-cloudwatch-log': 'true',
      '--database': input.database,
      '--raw_table': input.rawTable,
      '--cleaned_path': `s3://${input.bucket}/cleaned/`,
      '--quarantine_path': `s3://${input.bucket}/quarantine/`,
      '--min_drop_pct': '0.01',
    },
    Tags: { application: 'pricedrop' },
  };
}

/**
 * The Athena table over `cleaned/`: Snappy Parquet, partition projection on dt (no MSCK REPAIR,
 * no crawler needed). Columns in the job's output order; observed_at is the UTC ISO 8601 text
 * the local cache also stores.
 */
export function cleanedTable(input: GlueDefinitionInput): TableInput {
  const location = `s3://${input.bucket}/cleaned/`;
  return {
    Name: input.cleanedTable,
    Description: 'PriceDrop cleaned, labelled observations (written by the Glue job)',
    TableType: 'EXTERNAL_TABLE',
    PartitionKeys: [{ Name: 'dt', Type: 'string' }],
    StorageDescriptor: {
      Columns: [
        { Name: 'source', Type: 'string' },
        { Name: 'product_id', Type: 'string' },
        { Name: 'observed_at', Type: 'string' },
        { Name: 'title', Type: 'string' },
        { Name: 'category', Type: 'string' },
        { Name: 'price', Type: 'double' },
        { Name: 'old_price', Type: 'double' },
        { Name: 'currency', Type: 'string' },
        { Name: 'drop_amount', Type: 'double' },
        { Name: 'drop_pct', Type: 'double' },
        { Name: 'is_drop', Type: 'boolean' },
        { Name: 'drop_label', Type: 'string' },
      ],
      Location: location,
      InputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
      OutputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
      SerdeInfo: { SerializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe', Parameters: { 'serialization.format': '1' } },
    },
    Parameters: {
      EXTERNAL: 'TRUE',
      classification: 'parquet',
      'parquet.compression': 'SNAPPY',
      'projection.enabled': 'true',
      'projection.dt.type': 'date',
      'projection.dt.format': 'yyyy-MM-dd',
      'projection.dt.range': '2000-01-01,NOW',
      'projection.dt.interval': '1',
      'projection.dt.interval.unit': 'DAYS',
      'storage.location.template': `${location}dt=\${dt}/`,
    },
  };
}
