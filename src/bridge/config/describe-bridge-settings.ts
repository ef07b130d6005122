import { redactNatsAuth } from '../../config/describe-settings.js';
import type { BridgeSettings } from './bridge-settings.js';

/**
 * The settings for the start-up log line: the same shape, the NATS password or token
 * replaced by "[redacted]". File paths stay (the macaroon's contents are never read
 * here), and lnd's URL is shown as its text.
 */
export function describeBridgeSettings(settings: BridgeSettings): Record<string, unknown> {
  return {
    ...settings,
    lnd: { ...settings.lnd, restUrl: settings.lnd.restUrl.href },
    nats: { ...settings.nats, auth: redactNatsAuth(settings.nats.auth) },
  };
}
