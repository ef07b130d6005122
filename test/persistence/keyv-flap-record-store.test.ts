import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type KeyvRedis from '@keyv/redis';
import sinon from 'sinon';
import { parseStoreUrl } from '../../src/config/store-url.js';
import { PersistenceError } from '../../src/persistence/errors.js';
import { flapRecordKey } from '../../src/persistence/flap-record-codec.js';
import {
  openFlapRecordStore,
  type KeyvFlapRecordStore,
} from '../../src/persistence/keyv-flap-record-store.js';
import type { FlapRecord } from '../../src/store/peer-monitor.js';
import { pubkey } from '../support/store-fixture.js';
import { freePort } from '../support/free-port.js';
import { HOUR, TEST_NOW } from '../support/test-clock.js';
import {
  ALL_BACKENDS,
  ProcessFailures,
  postgresAdapter,
  postgresBackend,
  silentLogger,
  type TestStore,
} from './support/backends.js';

function records(n: number, base = 0): Map<string, FlapRecord> {
  const out = new Map<string, FlapRecord>();
  for (let i = 0; i < n; i++) {
    out.set(pubkey(base + i), { count: i + 1, lastFlap: TEST_NOW + i * 1000 + 0.5 });
  }
  return out;
}

/** Writes a raw text where Keyv would put the peer's record. */
async function writeRaw(store: KeyvFlapRecordStore, key: string, text: string): Promise<void> {
  const { keyv } = store.backend;
  // Keyv prefixes the namespace itself for SQL stores, the Redis adapter does it below.
  const adapter = keyv.store as { set(key: string, value: string): Promise<unknown> };
  await adapter.set(keyv._getKeyPrefix(key), text);
}

function isCode(code: string): (err: unknown) => boolean {
  return (err) => err instanceof PersistenceError && err.code === code;
}

for (const backend of ALL_BACKENDS) {
  describe(`KeyvFlapRecordStore on ${backend.name}`, () => {
    let handle: TestStore;
    let store: KeyvFlapRecordStore;

    beforeEach(async () => {
      handle = await backend.open();
      store = handle.store;
    });

    afterEach(async () => {
      sinon.restore();
      await handle.cleanup();
    });

    it('reads back what it wrote, per node', async () => {
      const written = records(3);
      await store.write('alice', written);
      assert.deepEqual(await store.read('alice', pubkey(1)), written.get(pubkey(1)));
      assert.equal(await store.read('alice', pubkey(99)), undefined);
      // Another node's record of the same peer is another record.
      assert.equal(await store.read('bob', pubkey(1)), undefined);

      const many = await store.readMany('alice', [pubkey(0), pubkey(2), pubkey(99), pubkey(0)]);
      assert.deepEqual(
        many,
        new Map([
          [pubkey(0), written.get(pubkey(0))],
          [pubkey(2), written.get(pubkey(2))],
        ]),
      );

      await store.write('alice', new Map([[pubkey(1), { count: 40, lastFlap: TEST_NOW + HOUR }]]));
      assert.deepEqual(await store.read('alice', pubkey(1)), {
        count: 40,
        lastFlap: TEST_NOW + HOUR,
      });
      assert.deepEqual(await store.read('alice', pubkey(2)), written.get(pubkey(2)));
    });

    it('stores the documented value under <namespace>:flap:<node>:<pubkey>', async () => {
      await store.write(
        'alice',
        new Map([[pubkey(7), { count: 2, lastFlap: Date.UTC(2024, 4, 1) }]]),
      );
      const { keyv } = store.backend;
      const key = `${keyv.namespace ?? ''}:flap:alice:${pubkey(7)}`;
      const raw =
        backend.name === 'redis'
          ? await (keyv.store as KeyvRedis<string>).client.get(key)
          : await (keyv.store as { get(key: string): Promise<unknown> }).get(key);
      assert.equal(typeof raw, 'string');
      assert.deepEqual((JSON.parse(raw as string) as { value: unknown }).value, {
        count: 2,
        lastFlap: '2024-05-01T00:00:00.000Z',
      });
    });

    it('takes values that do not decode as absent and counts them, without failing the batch', async () => {
      await store.write('alice', records(2));
      await writeRaw(store, flapRecordKey('alice', pubkey(10)), '{"value": {"count": 1,');
      await store.backend.keyv.set(flapRecordKey('alice', pubkey(11)), {
        count: -3,
        lastFlap: 'x',
      });
      await store.backend.keyv.set(flapRecordKey('alice', pubkey(12)), 'just text');
      // The documented value written by another tool, without Keyv's envelope, is read.
      await writeRaw(
        store,
        flapRecordKey('alice', pubkey(13)),
        '{"count": 5, "lastFlap": "2024-05-01T12:00:00Z"}',
      );

      const [r0, r10, r11, r12, r13, r1] = await Promise.all(
        [0, 10, 11, 12, 13, 1].map((n) => store.read('alice', pubkey(n))),
      );
      assert.deepEqual([r10, r11, r12], [undefined, undefined, undefined]);
      assert.deepEqual(r13, { count: 5, lastFlap: Date.UTC(2024, 4, 1, 12) });
      assert.equal(r0?.count, 1);
      assert.equal(r1?.count, 2);
      assert.equal(store.stats.invalidRecords, 3);
      assert.equal(store.stats.readFailures, 0);
    });

    it('skips a record that cannot be stored, writing the others', async () => {
      const written = records(2);
      written.set(pubkey(5), { count: -1, lastFlap: TEST_NOW });
      await store.write('alice', written);
      assert.equal(store.stats.unwritableRecords, 1);
      assert.equal(await store.read('alice', pubkey(5)), undefined);
      assert.equal((await store.read('alice', pubkey(1)))?.count, 2);
    });

    it('coalesces 1,000 concurrent reads into one getMany, and writes in setMany batches', async () => {
      const written = records(1000);
      const setMany = sinon.spy(store.backend.keyv, 'setMany');
      await store.write('alice', written);
      assert.equal(setMany.callCount, 1);

      const getMany = sinon.spy(store.backend.keyv, 'getMany');
      const keys = [...written.keys()];
      const read = await Promise.all(keys.map((pk) => store.read('alice', pk)));
      assert.equal(getMany.callCount, 1);
      assert.equal(getMany.firstCall.args[0].length, 1000);
      assert.deepEqual(read, [...written.values()]);
    });

    it('bounds the batches by maxBatchSize', async () => {
      await handle.cleanup();
      handle = await backend.open({ maxBatchSize: 64 });
      store = handle.store;
      const written = records(1000);
      const setMany = sinon.spy(store.backend.keyv, 'setMany');
      await store.write('alice', written);
      assert.equal(setMany.callCount, Math.ceil(1000 / 64));

      const getMany = sinon.spy(store.backend.keyv, 'getMany');
      const found = await store.readMany('alice', written.keys());
      assert.equal(getMany.callCount, Math.ceil(1000 / 64));
      assert.ok(getMany.getCalls().every((call) => call.args[0].length <= 64));
      assert.deepEqual(found, written);
    });

    it('refuses operations once closed', async () => {
      await store.close();
      await assert.rejects(store.read('alice', pubkey(1)), isCode('STORE_CLOSED'));
      await assert.rejects(store.write('alice', records(1)), isCode('STORE_CLOSED'));
      // Closing again is harmless.
      await store.close();
    });
  });
}

describe('KeyvFlapRecordStore with its backend down', () => {
  const failures = new ProcessFailures();
  beforeEach(() => {
    failures.install();
  });
  afterEach(() => {
    failures.uninstall();
  });

  for (const scheme of ['redis', 'postgres']) {
    it(`${scheme}: reads and writes reject (never "no record"), and nothing crashes`, async () => {
      const port = await freePort();
      const url =
        scheme === 'redis'
          ? `redis://127.0.0.1:${port}`
          : `postgres://postgres@127.0.0.1:${port}/test`;
      const store = await openFlapRecordStore(parseStoreUrl(url), {
        logger: silentLogger,
        timeoutMs: 2_000,
        namespace: `chanfitness-down-test`,
      });
      try {
        await assert.rejects(store.read('alice', pubkey(1)), isCode('STORE_READ_FAILED'));
        await assert.rejects(store.readMany('alice', [pubkey(1), pubkey(2)]), PersistenceError);
        await assert.rejects(store.write('alice', records(3)), isCode('STORE_WRITE_FAILED'));
        const results = await Promise.allSettled(
          Array.from({ length: 50 }, (_, i) => store.read('alice', pubkey(i))),
        );
        assert.ok(results.every((r) => r.status === 'rejected'));
        assert.ok(store.stats.readFailures >= 3);
        assert.equal(store.stats.writeFailures, 1);
      } finally {
        await store.close();
      }
      assert.deepEqual(failures.failures, []);
    });
  }
});

describe('KeyvFlapRecordStore on postgres, repaired', () => {
  const failures = new ProcessFailures();
  let handle: TestStore;

  beforeEach(async () => {
    failures.install();
    handle = await postgresBackend.open();
  });

  afterEach(async () => {
    failures.uninstall();
    await handle.cleanup();
  });

  it('creates its table again when it is missing', async () => {
    const { store } = handle;
    await store.write('alice', records(2));
    const table = (postgresAdapter(store).opts as { table: string }).table;
    await postgresAdapter(store).query(`DROP TABLE public.${table}`);
    // The read itself creates the table again (and finds nothing there).
    assert.equal(await store.read('alice', pubkey(0)), undefined);
    await store.write('alice', records(2));
    assert.equal((await store.read('alice', pubkey(1)))?.count, 2);
  });

  it('survives the server dropping its idle connections', async () => {
    const { store } = handle;
    const adapter = postgresAdapter(store);
    // Two connections in the pool, then both idle.
    await Promise.all([
      adapter.query('SELECT pg_sleep(0.05)'),
      adapter.query('SELECT pg_sleep(0.05)'),
    ]);
    const errors = store.stats.backendErrors;
    const terminated = (await adapter.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
       WHERE application_name = $1 AND pid <> pg_backend_pid() AND state = 'idle'`,
      [handle.id],
    )) as unknown[];
    assert.equal(terminated.length, 1);
    await store.write('alice', records(1));
    assert.equal((await store.read('alice', pubkey(0)))?.count, 1);
    assert.ok(store.stats.backendErrors > errors, 'the dropped connection was reported');
    assert.deepEqual(failures.failures, []);
  });
});

describe('openFlapRecordStore', () => {
  it('fails at start-up when the SQLite file cannot be created', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'chanfitness-persistence-'));
    try {
      // A file where the folder should be.
      await writeFile(join(dir, 'data'), '');
      await assert.rejects(
        openFlapRecordStore(parseStoreUrl('sqlite://data/flaps.sqlite'), {
          logger: silentLogger,
          cwd: dir,
        }),
        isCode('STORE_OPEN_FAILED'),
      );
      await assert.rejects(
        openFlapRecordStore(parseStoreUrl('sqlite://.'), { logger: silentLogger, cwd: dir }),
        isCode('STORE_OPEN_FAILED'),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('fails at start-up, naming --store.url, when the file is not an SQLite database', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'chanfitness-persistence-'));
    try {
      await writeFile(
        join(dir, 'flaps.sqlite'),
        'not a database, but long enough to be read as one '.repeat(20),
      );
      await assert.rejects(
        openFlapRecordStore(parseStoreUrl('sqlite://flaps.sqlite'), {
          logger: silentLogger,
          cwd: dir,
        }),
        (err: unknown) =>
          isCode('STORE_OPEN_FAILED')(err) &&
          err instanceof Error &&
          err.message ===
            `--store.url (STORE_URL): ${join(dir, 'flaps.sqlite')} is not an SQLite file ` +
              '(SQLITE_NOTADB): use another path, or move this file away',
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('opens a relative SQLite path under the working directory, creating its folder', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'chanfitness-persistence-'));
    try {
      const store = await openFlapRecordStore(parseStoreUrl('sqlite://./data/flaps.sqlite'), {
        logger: silentLogger,
        cwd: dir,
      });
      try {
        assert.equal(store.backend.kind, 'sqlite');
        await store.write('alice', records(1));
      } finally {
        await store.close();
      }
      assert.ok(existsSync(join(dir, 'data', 'flaps.sqlite')));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('names the default namespace chanfitness', async () => {
    const store = await openFlapRecordStore(parseStoreUrl('sqlite://:memory:'), {
      logger: silentLogger,
    });
    try {
      assert.equal(store.backend.keyv.namespace, 'chanfitness');
    } finally {
      await store.close();
    }
  });
});
