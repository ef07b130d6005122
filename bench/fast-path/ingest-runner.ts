/**
 * A process of bench/fast-path-decoder.bench.ts: our ingest over core NATS
 * (bench/ingest-rounds.ts), a round at a time when asked, with a publisher of
 * its own. Started with or without substitutes, so that two decoders are
 * measured in processes alike but for them.
 */
import * as channelDecoder from '../../src/lnd/decode-channel-event.js';
import * as peerDecoder from '../../src/lnd/decode-peer-event.js';
import { benchLogger, startPublisher } from '../ingest-harness.js';
import { ourSubscriber, runOne, TRAFFIC, type RoundResult } from '../ingest-rounds.js';

export type RunnerRequest = { readonly kind: 'round' } | { readonly kind: 'exit' };
export type RunnerReply =
  | {
      readonly kind: 'ready';
      readonly total: number;
      /** Whether both decoders are the scanning substitutes (they export their general paths). */
      readonly scanning: boolean;
    }
  | { readonly kind: 'round'; readonly result: RoundResult };

const messages = Number(process.argv[2] ?? 500_000);
const logger = benchLogger();
const publisher = startPublisher();
const reply = (message: RunnerReply): void => {
  process.send?.(message);
};

publisher.send({ kind: 'generate', ...TRAFFIC, count: messages });
const generated = await publisher.next('generated');
process.on('message', (request: RunnerRequest) => {
  if (request.kind === 'exit') {
    void publisher.stop().then(() => process.exit(0));
    return;
  }
  void runOne(publisher, generated.count, (prefix) => ourSubscriber(prefix, logger)).then(
    (result) => {
      reply({ kind: 'round', result });
    },
  );
});
reply({
  kind: 'ready',
  total: generated.count,
  scanning: 'decodePeerEventJson' in peerDecoder && 'decodeChannelEventJson' in channelDecoder,
});
