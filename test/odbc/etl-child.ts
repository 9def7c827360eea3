/** `pricedrop etl` from the sources, in its own process (the ODBC suite reads while it writes). */
import { main } from '../../pipeline/cli/main';

process.exitCode = await main(['etl', '--workspace', process.argv[2] as string]);
