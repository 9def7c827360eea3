import type { Command } from '../base/command-line';
import { desktopCommand } from './desktop-command';
import { startCommand } from './start-command';
import { benchForestCommand } from './bench-forest-command';
import { trainCommand } from './train-command';
import { predictCommand } from './predict-command';
import { backtestCommand } from './backtest-command';
import { produceCommand } from '../../producer/produce-command';
import { benchProduceCommand } from './bench-produce-command';
import { etlCommand } from './etl-command';
import { importCommand } from './import-command';
import { cloudSetupCommand } from './cloud-setup-command';
import { cloudCrawlCommand } from './cloud-crawl-command';
import { cloudTransformCommand } from './cloud-transform-command';
import { benchEtlCommand } from './bench-etl-command';
import { benchDashboardCommand } from './bench-dashboard-command';
import { serveCommand } from '../../model/server/serve-command';
import { publishCommand } from './publish-command';
import { benchServeCommand } from './bench-serve-command';
import { cloudSyncCommand } from './cloud-sync-command';
import { powerbiCommand } from './powerbi-command';

/**
 * Every `pricedrop` command, in the order `pricedrop --help` lists them.
 * One import and one list entry per command; each command lives in its own file under pipeline/cli/.
 */
export const COMMANDS: readonly Command[] = [
  startCommand,
  desktopCommand,
  benchForestCommand,
  trainCommand,
  predictCommand,
  backtestCommand,
  produceCommand,
  benchProduceCommand,
  etlCommand,
  importCommand,
  cloudSetupCommand,
  cloudCrawlCommand,
  cloudTransformCommand,
  benchEtlCommand,
  benchDashboardCommand,
  serveCommand,
  publishCommand,
  benchServeCommand,
  cloudSyncCommand,
  powerbiCommand,
];
