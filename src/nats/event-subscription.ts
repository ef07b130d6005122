import type { NatsConnection, Subscription } from 'nats';
import { errorMessage } from '../errors.js';
import type { EventIngest, EventSubject } from '../ingest/event-ingest.js';
import type { Logger } from '../log/logger.js';

/** Subjects whose node name is remembered, at most. */
const MAX_NODE_SUBJECTS = 10_000;

/**
 * Core NATS delivery: `<prefix>.*.channel_events`, `<prefix>.*.peer_events`
 * and the bridges' `<prefix>.*.status`. Callback subscriptions run in the
 * order messages arrive on the connection, so a node's channel and peer events
 * and statuses keep their relative order.
 */
export function subscribeEvents(
  nc: NatsConnection,
  prefix: string,
  ingest: EventIngest,
  logger: Logger,
): Subscription[] {
  // Node names by subject: a handful of subjects, each sliced once, and one
  // string per node (map lookups with it then find the same string).
  const nodes = new Map<string, string>();
  const subscribe = (subject: EventSubject): Subscription => {
    const suffixLength = subject.length + 1;
    return nc.subscribe(`${prefix}.*.${subject}`, {
      callback: (err, msg) => {
        if (err !== null) {
          logger.error({ subject, err: errorMessage(err) }, 'subscription error');
          return;
        }
        const name = msg.subject;
        let node = nodes.get(name);
        if (node === undefined) {
          // `<prefix>.<node>.<subject>`: the node is the token between them.
          node = name.slice(prefix.length + 1, name.length - suffixLength);
          // Bounded, whatever the publishers send.
          if (nodes.size >= MAX_NODE_SUBJECTS) nodes.clear();
          nodes.set(name, node);
        }
        ingest.handleParts(node, subject, msg.data);
      },
    });
  };
  return [subscribe('channel_events'), subscribe('peer_events'), subscribe('status')];
}
