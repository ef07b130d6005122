import { ServerResponse } from 'node:http';
import { GraphQLError } from 'graphql';
import type { Scheduler } from '../../clock.js';
import { parsePubkey } from '../arguments.js';
import { withClientErrors } from '../errors.js';
import {
  SubscriptionError,
  type AppliedChannelEvent,
  type AppliedPeerEvent,
  type EventHub,
  type EventStream,
} from '../event-hub.js';

/**
 * How long a dropped subscriber has to read what its connection still holds
 * (the SUBSCRIBER_TOO_SLOW error last) before the connection is cut: one that
 * never reads would otherwise keep its socket buffers, and its place among the
 * subscriptions, for good.
 */
export const DROPPED_GRACE_MS = 10_000;

interface PeerEventsArgs {
  readonly node?: string | null;
  readonly peer?: string | null;
}

interface ChannelEventsArgs {
  readonly node?: string | null;
}

/** What yoga's context holds of the request (a Fetch Request) and, on node:http, the response. */
interface SubscriptionContext {
  readonly request?: { readonly signal?: AbortSignal };
  readonly res?: unknown;
}

/** The GraphQL error of a subscription refused (503) or ended early. */
function subscriptionError(err: SubscriptionError): GraphQLError {
  return new GraphQLError(err.message, {
    extensions: {
      code: err.code,
      // Refused before the stream starts: the answer's status says so too.
      ...(err.code === 'TOO_MANY_SUBSCRIPTIONS' ? { http: { status: 503 } } : {}),
    },
  });
}

/** Ties the stream to its HTTP request: ended when the client leaves, cut when dropped and stuck. */
function attach<T>(
  stream: EventStream<T>,
  context: SubscriptionContext,
  clock: Scheduler,
): EventStream<T> {
  const signal = context.request?.signal;
  if (signal !== undefined) {
    if (signal.aborted) void stream.return();
    else {
      signal.addEventListener(
        'abort',
        () => {
          void stream.return();
        },
        { once: true },
      );
    }
  }
  const res = context.res instanceof ServerResponse ? context.res : undefined;
  stream.onDropped = () => {
    clock
      .after(DROPPED_GRACE_MS, () => {
        if (stream.finished) return;
        res?.destroy();
        void stream.return();
      })
      .unref();
  };
  return stream;
}

function subscribing<T>(
  open: () => EventStream<T>,
  context: SubscriptionContext,
  clock: Scheduler,
): EventStream<T> {
  try {
    return withClientErrors(() => attach(open(), context, clock));
  } catch (err) {
    if (err instanceof SubscriptionError) throw subscriptionError(err);
    // Refused before the stream starts: a 400 answer, not a 200 stream of one error.
    if (err instanceof GraphQLError && err.extensions.code === 'BAD_USER_INPUT') {
      throw new GraphQLError(err.message, {
        extensions: { ...err.extensions, http: { status: 400 } },
      });
    }
    throw err;
  }
}

/** Each value of a stream as the field's value; the error a dropped stream ends with as an error. */
function deliver<T>(value: T | SubscriptionError): T {
  if (value instanceof SubscriptionError) throw subscriptionError(value);
  return value;
}

/** `Subscription`: applied events from the hub, filtered by node and peer. */
/** `clock` times the grace of a dropped subscriber. */
export function subscriptionResolvers(
  hub: EventHub,
  clock: Scheduler,
): {
  peerEvents: {
    subscribe: (root: unknown, args: PeerEventsArgs, context: SubscriptionContext) => unknown;
    resolve: (value: AppliedPeerEvent | SubscriptionError) => AppliedPeerEvent;
  };
  channelEvents: {
    subscribe: (root: unknown, args: ChannelEventsArgs, context: SubscriptionContext) => unknown;
    resolve: (value: AppliedChannelEvent | SubscriptionError) => AppliedChannelEvent;
  };
} {
  return {
    peerEvents: {
      subscribe: (_root, args, context) =>
        subscribing(
          () => {
            // Validated before a place is taken.
            const pubkey = args.peer == null ? undefined : parsePubkey(args.peer, 'peer');
            return hub.subscribePeers({ node: args.node ?? undefined, pubkey });
          },
          context,
          clock,
        ),
      resolve: deliver,
    },
    channelEvents: {
      subscribe: (_root, args, context) =>
        subscribing(() => hub.subscribeChannels({ node: args.node ?? undefined }), context, clock),
      resolve: deliver,
    },
  };
}
