import type { Clock } from './clock.js';
import { errorMessage } from './errors.js';
import { DEFAULT_QUEUE_SIZE, EventHub, hubObserver } from './graphql/event-hub.js';
import type { Logger } from './log/logger.js';
import { RateLimitedLog } from './log/rate-limited-log.js';
import type { StoreObserver } from './store/channel-event-store.js';

/**
 * Logs what the stores report, without letting a flood of it flood the log,
 * and hands the events they apply to the subscriptions' hub.
 */
export function storeObserver(
  node: string,
  logger: Logger,
  clock: Clock,
  events: EventHub,
): StoreObserver {
  const limited = new RateLimitedLog(clock);
  return {
    ...hubObserver(node, events),
    rejected: (reason, pubkey, channelPoint, message) => {
      limited.log(reason, (suppressed) => {
        logger.warn(
          { node, reason, peer: pubkey, channelPoint, ...(suppressed > 0 ? { suppressed } : {}) },
          message,
        );
      });
    },
    reordered: (pubkey, eventTime, appliedTime) => {
      limited.log('reordered', (suppressed) => {
        logger.debug(
          {
            node,
            peer: pubkey,
            eventTime: new Date(eventTime).toISOString(),
            appliedAt: new Date(appliedTime).toISOString(),
            ...(suppressed > 0 ? { suppressed } : {}),
          },
          'event older than its peer latest: applied at the latest time',
        );
      });
    },
  };
}

/** Logs the record reads that fail (a few a minute per node, the rest counted). */
export function recordReadFailedLog(
  logger: Logger,
  clock: Clock,
): (node: string, pubkey: string, err: unknown) => void {
  const limited = new RateLimitedLog(clock);
  return (node, pubkey, err) => {
    limited.log(node, (suppressed) => {
      logger.warn(
        { node, peer: pubkey, err: errorMessage(err), ...(suppressed > 0 ? { suppressed } : {}) },
        'cannot read the persisted flap record: counting from zero, merging it once it can be read',
      );
    });
  };
}

/** The GraphQL subscriptions' hub, logging (a few a minute) the subscribers it drops. */
export function subscriptionHub(maxSubscriptions: number, logger: Logger, clock: Clock): EventHub {
  const droppedLog = new RateLimitedLog(clock);
  return new EventHub({
    maxSubscriptions,
    queueSize: DEFAULT_QUEUE_SIZE,
    dropped: ({ field, filter }) => {
      droppedLog.log('dropped', (suppressed) => {
        logger.info(
          {
            subscription: field,
            node: filter.node,
            peer: filter.pubkey,
            queueSize: DEFAULT_QUEUE_SIZE,
            ...(suppressed > 0 ? { suppressed } : {}),
          },
          'GraphQL subscriber dropped: it read its events too slowly',
        );
      });
    },
  });
}
