import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import KeyvPostgresAdapter from '@keyv/postgres';
import { createClient } from '@keyv/redis';
import { pino } from 'pino';
import { parseStoreUrl } from '../../../src/config/store-url.js';
import {
  openFlapRecordStore,
  type KeyvFlapRecordStore,
  type OpenFlapRecordStoreOptions,
} from '../../../src/persistence/keyv-flap-record-store.js';

export const REDIS_URL = 'redis://127.0.0.1:6379';
export const POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/test';

export const silentLogger = pino({ level: 'silent' });

export function randomId(): string {
  return randomBytes(6).toString('hex');
}

/** A record store on a real backend, with private keys, and how to remove them. */
export interface TestStore {
  readonly store: KeyvFlapRecordStore;
  /** What names this store's resources: PostgreSQL's application_name, Redis namespace, ... */
  readonly id: string;
  /** Closes the store and removes what the test wrote. */
  cleanup(): Promise<void>;
}

export interface TestBackend {
  readonly name: 'sqlite' | 'redis' | 'postgres';
  open(options?: OpenFlapRecordStoreOptions): Promise<TestStore>;
}

export const sqliteBackend: TestBackend = {
  name: 'sqlite',
  async open(options = {}) {
    const dir = await mkdtemp(join(tmpdir(), 'chanfitness-persistence-'));
    // A folder that does not exist yet: opening creates it.
    const store = await openFlapRecordStore(parseStoreUrl('sqlite://data/flaps.sqlite'), {
      logger: silentLogger,
      cwd: dir,
      ...options,
    });
    return {
      store,
      id: dir,
      async cleanup() {
        await store.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  },
};

export const redisBackend: TestBackend = {
  name: 'redis',
  async open(options = {}) {
    const namespace = `chanfitness-test-${randomId()}`;
    const store = await openFlapRecordStore(parseStoreUrl(REDIS_URL), {
      logger: silentLogger,
      namespace,
      ...options,
    });
    return {
      store,
      id: namespace,
      async cleanup() {
        await store.close();
        // The store may have been closed by the test: the keys go through a client of their own.
        const admin = createClient({ url: REDIS_URL });
        await admin.connect();
        const keys = await admin.keys(`${namespace}:*`);
        if (keys.length > 0) await admin.del(keys);
        await admin.close();
      },
    };
  },
};

export const postgresBackend: TestBackend = {
  name: 'postgres',
  async open(options = {}) {
    const id = randomId();
    const table = `keyv_test_${id}`;
    // The connection string's application_name wins over the store's own: tests tell their connections apart.
    const store = await openFlapRecordStore(
      parseStoreUrl(`${POSTGRES_URL}?application_name=chanfitness-test-${id}`),
      {
        logger: silentLogger,
        postgresTable: table,
        ...options,
      },
    );
    return {
      store,
      id: `chanfitness-test-${id}`,
      async cleanup() {
        await store.close();
        // The store may have been closed by the test: the table goes through an adapter of its own.
        const admin = new KeyvPostgresAdapter({ uri: POSTGRES_URL, table });
        await admin.query(`DROP TABLE IF EXISTS public.${table}`);
        await admin.disconnect();
      },
    };
  },
};

export const ALL_BACKENDS = [sqliteBackend, redisBackend, postgresBackend];

export function postgresAdapter(store: KeyvFlapRecordStore): KeyvPostgresAdapter {
  return store.backend.keyv.store as KeyvPostgresAdapter;
}

/** Records the process-level failures a test must not cause. */
export class ProcessFailures {
  readonly failures: unknown[] = [];
  private readonly onFailure = (err: unknown): void => {
    this.failures.push(err);
  };

  install(): void {
    process.on('unhandledRejection', this.onFailure);
    process.on('uncaughtException', this.onFailure);
  }

  uninstall(): void {
    process.off('unhandledRejection', this.onFailure);
    process.off('uncaughtException', this.onFailure);
  }
}
