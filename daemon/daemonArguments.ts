import { parseArgs } from 'node:util';
import { CONFIG_SETTINGS, type ConfigOverrides } from './config';

export interface DaemonArguments {
  help: boolean;
  version: boolean;
  /** Each setting given by its flag, as text for `loadConfig` to check. */
  overrides: ConfigOverrides;
}

/** Reads the daemon's command line (without the node executable and script): every setting has a flag. */
export function parseDaemonArguments(args: readonly string[]): DaemonArguments {
  const options = Object.fromEntries(CONFIG_SETTINGS.map(({ flag }) => [flag.slice(2), { type: 'string' as const }]));
  const { values } = parseArgs({
    args: [...args],
    options: { ...options, help: { type: 'boolean' }, version: { type: 'boolean' } },
    strict: true,
  });
  const overrides: ConfigOverrides = {};
  for (const { name, flag } of CONFIG_SETTINGS) {
    const value = (values as Record<string, unknown>)[flag.slice(2)];
    if (typeof value === 'string') overrides[name] = value;
  }
  return { help: values.help === true, version: values.version === true, overrides };
}
