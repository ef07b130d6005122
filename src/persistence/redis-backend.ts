import KeyvRedis, { createClient } from '@keyv/redis';
import type { Keyv } from 'keyv';
import { describeSetting } from '../config/settings-reader.js';
import { redactUrl } from '../log/redact-url.js';
import { PersistenceError, storeErrorMessage } from './errors.js';
import { newKeyv, type KeyvBackend, type KeyvBackendOptions } from './keyv-backend.js';

const RECONNECT_FIRST_DELAY_MS = 100;
const RECONNECT_MAX_DELAY_MS = 2_000;

type RedisClient = ReturnType<typeof createClient>;

/**
 * Redis through @keyv/redis with a client of our own: connected at once and
 * reconnecting for ever in the background, without an offline queue (a Redis
 * that is down fails commands instead of queueing every flush in memory).
 */
export function openRedisBackend(url: string, options: KeyvBackendOptions): KeyvBackend {
  let client: RedisClient;
  try {
    client = createClient({
      url,
      disableOfflineQueue: true,
      socket: {
        connectTimeout: options.timeoutMs,
        reconnectStrategy: (retries: number) =>
          Math.min(RECONNECT_FIRST_DELAY_MS * 2 ** retries, RECONNECT_MAX_DELAY_MS),
      },
    });
  } catch (err) {
    throw new PersistenceError(
      'INVALID_STORE_URL',
      `${describeSetting('store.url')} "${redactUrl(url)}": ${storeErrorMessage(err)}`,
      { cause: err },
    );
  }
  // Without throwOnErrors the adapter answers "no value" when Redis fails.
  const adapter = new KeyvRedis<string>(client, {
    namespace: options.namespace,
    keyPrefixSeparator: ':',
    throwOnErrors: true,
    throwOnConnectError: true,
  });
  // The adapter prefixes keys itself: `chanfitness:flap:…`, as Keyv does for the SQL stores.
  const keyv = newKeyv(adapter, options.namespace, false);
  client.connect().catch((err: unknown) => {
    keyv.emit('error', err);
  });
  return new RedisBackend(client, keyv);
}

class RedisBackend implements KeyvBackend {
  readonly kind = 'redis';
  /** Why the last connection attempt failed; undefined once connected. */
  private connectionError: Error | undefined;
  private waiting: Promise<void> | undefined;

  constructor(
    private readonly client: RedisClient,
    readonly keyv: Keyv<unknown>,
  ) {
    client.on('error', (err: unknown) => {
      this.connectionError = err instanceof Error ? err : new Error(storeErrorMessage(err));
    });
    client.on('ready', () => {
      this.connectionError = undefined;
    });
  }

  /**
   * Ready; or, while the client reconnects after a failure, a rejection at
   * once (a Redis that is down fails fast); or, before the first attempt has
   * ended, that attempt's outcome.
   */
  ready(): Promise<void> {
    if (this.client.isReady) return Promise.resolve();
    if (!this.client.isOpen) {
      return Promise.reject(new PersistenceError('STORE_CLOSED', 'the Redis client is closed'));
    }
    if (this.connectionError !== undefined) {
      return Promise.reject(
        new Error(`Redis is unreachable: ${this.connectionError.message}`, {
          cause: this.connectionError,
        }),
      );
    }
    this.waiting ??= new Promise<void>((resolve, reject) => {
      const settle = (err?: Error): void => {
        this.client.off('ready', onReady);
        this.client.off('error', onError);
        this.waiting = undefined;
        if (err === undefined) resolve();
        else reject(err);
      };
      const onReady = (): void => {
        settle();
      };
      const onError = (err: unknown): void => {
        settle(
          err instanceof Error
            ? err
            : new Error(`Redis connection failed: ${storeErrorMessage(err)}`),
        );
      };
      this.client.on('ready', onReady);
      this.client.on('error', onError);
    });
    return this.waiting;
  }

  repair(): Promise<boolean> {
    return Promise.resolve(false);
  }

  close(): Promise<void> {
    // destroy, not close: QUIT would wait for a Redis that may be down.
    if (this.client.isOpen) this.client.destroy();
    return Promise.resolve();
  }
}
