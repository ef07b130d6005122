/**
 * The demo: a simulated lnd node publishing its channel and peer events to NATS
 * in lnd's JSON, and answering the exporter's RPC subjects. Run it beside the
 * exporter (npm run demo -- --help) to see live metrics and GraphQL answers.
 */
import { errorMessage } from '../src/errors.js';
import { demoCommand, demoSettings } from './demo/options.js';
import { describeDemo, startDemo } from './demo/nats-demo.js';

const command = demoCommand().parse();
const settings = demoSettings(command);

try {
  const demo = await startDemo(settings);
  const shutdown = (signal: string): void => {
    console.log(`demo: ${signal}, draining the NATS connection after ${demo.published} messages`);
    void demo.stop();
  };
  process.once('SIGINT', () => {
    shutdown('SIGINT');
  });
  process.once('SIGTERM', () => {
    shutdown('SIGTERM');
  });
  // Announced once the signals are handled: whoever reads it may stop us at once.
  console.log(describeDemo(settings));
  await demo.done;
  console.log(`demo: stopped after ${demo.published} messages`);
} catch (err) {
  console.error(
    `demo: cannot use NATS at ${settings.natsUrl}: ${errorMessage(err)}\n` +
      '  start one with JetStream, e.g. `nats-server -js` or `docker run --rm -p 4222:4222 nats -js`',
  );
  process.exitCode = 1;
}
