import type { BridgeSettings } from '../../src/bridge/config/bridge-settings.js';
import { parseBridgeSettings } from '../../src/bridge/config/parse-bridge-settings.js';

/** The bridge's settings from flags alone: the test machine's environment is not read. */
export function bridgeSettingsOf(
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
): BridgeSettings {
  const result = parseBridgeSettings(args, env);
  if (result.kind !== 'settings') throw new Error(`expected settings, got the ${result.kind}`);
  return result.settings;
}
