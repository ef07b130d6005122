import type { NatsConnection, Subscription } from 'nats';
import { errorMessage } from '../errors.js';
import type { EventIngest, EventSubject } from '../ingest/event-ingest.js';
import type { Logger } from '../log/logger.js';

/**
 * Core NATS delivery: `<prefix>.*.channel_events` and `<prefix>.*.peer_events`.
 * Callback subscriptions run in the order messages arrive on the connection, so
 * a node's channel and peer events keep their relative order.
 */
export function subscribeEvents(
  nc: NatsConnection,
  prefix: string,
  ingest: EventIngest,
  logger: Logger,
): Subscription[] {
  const subscribe = (subject: EventSubject): Subscription => {
    const suffixLength = subject.length + 1;
    return nc.subscribe(`${prefix}.*.${subject}`, {
      callback: (err, msg) => {
        if (err !== null) {
          logger.error({ subject, err: errorMessage(err) }, 'subscription error');
          return;
        }
        // `<prefix>.<node>.<subject>`: the node is the token between them.
        const node = msg.subject.slice(prefix.length + 1, msg.subject.length - suffixLength);
        ingest.handle({ node, subject, data: msg.data });
      },
    });
  };
  return [subscribe('channel_events'), subscribe('peer_events')];
}
