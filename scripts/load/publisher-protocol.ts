import type { DeliveryMode } from './options.js';

/** What the load test tells its publisher process. */
export type ToPublisher =
  | {
      readonly kind: 'config';
      readonly natsUrl: string;
      readonly prefix: string;
      readonly mode: DeliveryMode;
      readonly rate: number;
      readonly durationMs: number;
      readonly nodes: readonly string[];
      readonly peers: number;
      readonly channels: number;
      readonly historyMs: number;
      readonly seed: number;
    }
  | { readonly kind: 'start' };

/** What the publisher process reports. */
export type FromPublisher =
  | { readonly kind: 'ready' }
  | { readonly kind: 'progress'; readonly published: number; readonly at: number }
  | {
      readonly kind: 'done';
      /** Messages published (JetStream: acknowledged by the stream). */
      readonly published: number;
      /** Publishes that failed (JetStream only). */
      readonly failed: number;
      readonly startedAt: number;
      readonly endedAt: number;
      /** The simulation reached the present before the duration ended. */
      readonly exhausted: boolean;
      /** Event time of the last message published (ms since the epoch). */
      readonly lastEventTime: number;
      readonly channelsOpened: number;
      readonly channelsClosed: number;
    }
  | { readonly kind: 'error'; readonly message: string };
