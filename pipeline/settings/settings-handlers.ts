import type { HandlerContext } from '../api/handler-context';
import { powerBiConnection } from './power-bi';
import { readSettings, updateSettings, type Settings, type SettingsPatch } from './settings-store';

/** The settings domain: read, update (partial, validated), and the Power BI connection export. */
export function settingsHandlers(ctx: HandlerContext) {
  return {
    /** The settings plus where they live; `problem` when the stored file was unreadable. */
    'settings/get': async (): Promise<Settings & { problem?: string; workspace: string }> => ({ ...readSettings(ctx.workspace), workspace: ctx.workspace }),
    /** Stores a partial update (`{ aws: { region } }`, `{ dashboard: {...} }`); unknown keys and credentials are refused. */
    'settings/update': async (params: SettingsPatch): Promise<Settings> => updateSettings(ctx.workspace, params),
    /** The `.pbids` file for Power BI Desktop over ODBC, and the Athena ODBC DSN fields. */
    'settings/power-bi': async () => powerBiConnection(ctx.workspace, readSettings(ctx.workspace)),
  };
}
