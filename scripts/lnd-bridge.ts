/**
 * The lnd bridge: relays a real lnd node's channel and peer events from its
 * REST API to NATS, in lnd's JSON, for chanfitness-exporter to consume, and
 * answers the exporter's list_channels / list_peers bootstrap requests, and
 * publishes whether lnd is up (<prefix>.<node>.status).
 * A readonly macaroon is enough (info:read, offchain:read, peers:read). `--help` lists the flags.
 *
 *   node --import tsx scripts/lnd-bridge.ts --node mynode \
 *     --lnd.rest-url https://127.0.0.1:8080 --lnd.tls-cert ~/.lnd/tls.cert \
 *     --lnd.macaroon ~/.lnd/data/chain/bitcoin/mainnet/readonly.macaroon
 */
import { errorMessage } from '../src/errors.js';
import { startBridge, type RunningBridge } from './lnd-bridge/bridge.js';
import { createBridgeLogger } from './lnd-bridge/logger.js';
import { bridgeCommand, bridgeSettings } from './lnd-bridge/options.js';

// A bad setting exits 2, as the exporter does; --help exits 0.
const command = bridgeCommand()
  .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2))
  .parse();
const settings = bridgeSettings(command);
const logger = createBridgeLogger(settings.log.level, settings.log.format, settings.node);

let bridge: RunningBridge | undefined;
const shutdown = (signal: string): void => {
  if (bridge === undefined) {
    // Still waiting for NATS: nothing to flush.
    logger.info({ signal }, 'stopping before NATS was reached');
    logger.flush();
    process.exit(0);
  }
  logger.info({ signal }, 'stopping: closing the lnd streams and draining NATS');
  void bridge.stop();
};
process.once('SIGINT', () => {
  shutdown('SIGINT');
});
process.once('SIGTERM', () => {
  shutdown('SIGTERM');
});

try {
  bridge = await startBridge(settings, logger);
  if ((await bridge.done) === 'nats-closed') process.exitCode = 1;
} catch (err) {
  logger.fatal({ err: errorMessage(err) }, 'the lnd bridge failed');
  process.exitCode = 1;
}
