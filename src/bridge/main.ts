#!/usr/bin/env node
/**
 * chanfitness-lnd-bridge: relays a real lnd node's channel and peer events from its
 * REST API to NATS, in lnd's JSON, for chanfitness-exporter to consume, answers the
 * exporter's list_channels / list_peers bootstrap requests, and publishes whether lnd
 * is up (<prefix>.<node>.status). A readonly macaroon is enough (info:read,
 * offchain:read, peers:read). `--help` lists the settings.
 *
 *   chanfitness-lnd-bridge --lnd.node mynode \
 *     --lnd.rest-url https://127.0.0.1:8080 --lnd.tls-cert ~/.lnd/tls.cert \
 *     --lnd.macaroon ~/.lnd/data/chain/bitcoin/mainnet/readonly.macaroon
 */
import { packageVersion } from '../config/package-version.js';
import { systemScheduler } from '../clock.js';
import { EXIT_FAILURE, limitStop, readSettingsOrExit, watchForCrashes } from '../entry-point.js';
import { errorMessage } from '../errors.js';
import type { RunningBridge } from './bridge.js';
import { BRIDGE_SERVICE, createBridgeLogger } from './bridge-logger.js';
import { describeBridgeSettings } from './config/describe-bridge-settings.js';
import { parseBridgeSettings } from './config/parse-bridge-settings.js';

async function main(): Promise<void> {
  const settings = readSettingsOrExit(BRIDGE_SERVICE, () =>
    parseBridgeSettings(process.argv.slice(2), process.env),
  );
  const logger = createBridgeLogger(settings.log.level, settings.log.format, settings.node);
  logger.info(
    { version: packageVersion(), settings: describeBridgeSettings(settings) },
    `starting ${BRIDGE_SERVICE}`,
  );
  watchForCrashes(logger);

  let bridge: RunningBridge | undefined;
  let stopping = false;
  const exit = (code: number): void => {
    logger.flush();
    process.exit(code);
  };
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    if (bridge === undefined) {
      // Still waiting for NATS: nothing to flush.
      logger.info({ signal }, 'stopping before NATS was reached');
      exit(0);
      return;
    }
    logger.info({ signal }, 'stopping: closing the lnd streams and draining NATS');
    limitStop(logger, systemScheduler);
    void bridge.stop();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);

  try {
    // Loaded only now: --help, --version and bad settings answer without loading NATS.
    const { startBridge } = await import('./bridge.js');
    bridge = await startBridge(settings, logger);
  } catch (err) {
    logger.fatal({ err: errorMessage(err) }, 'the lnd bridge failed to start');
    exit(EXIT_FAILURE);
    return;
  }
  // A NATS connection closed for good (not by a signal) is a failure: let the service manager restart it.
  const how = await bridge.done;
  exit(how === 'nats-closed' ? EXIT_FAILURE : 0);
}

void main();
