import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import KeyvPostgres from '@keyv/postgres';
import { createClient } from '@keyv/redis';
import KeyvSqlite from '@keyv/sqlite';
import { connect, type NatsConnection } from 'nats';
import { parseExposition, type Family } from '../metrics/text-format-parser.js';
import { ExporterProcess, type ExporterOptions } from '../support/exporter-process.js';
import { bytes } from '../support/lnd-json.js';

/** The NATS server of this machine; tests only publish on subjects of their own prefix. */
export const SHARED_NATS_URL = 'nats://127.0.0.1:4222';
export const SHARED_REDIS_URL = 'redis://127.0.0.1:6379';
export const SHARED_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/test';

export const SECOND = 1_000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;

/** A short random name token: subject prefixes, node names (lower-case hex, no dots). */
export function randomToken(tag: string): string {
  return `${tag}${randomBytes(5).toString('hex')}`;
}

/** A fresh compressed pubkey as lnd prints it (lower-case hex). */
export function randomPubkey(): string {
  return `02${randomBytes(32).toString('hex')}`;
}

/** A fresh channel point `<txid>:<index>`. */
export function randomChannelPoint(index = 0): string {
  return `${randomBytes(32).toString('hex')}:${index}`;
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** Publishes lnd JSON on `<prefix>.<node>.channel_events` / `.peer_events`. */
export class Publisher {
  private constructor(
    readonly nc: NatsConnection,
    readonly prefix: string,
  ) {}

  static async connect(prefix: string, url = SHARED_NATS_URL): Promise<Publisher> {
    return new Publisher(await connect({ servers: url, name: 'chanfitness-e2e' }), prefix);
  }

  /** A channel event: an object is sent as JSON, a string or bytes as they are. */
  channel(node: string, payload: unknown): void {
    this.nc.publish(`${this.prefix}.${node}.channel_events`, encode(payload));
  }

  peer(node: string, payload: unknown): void {
    this.nc.publish(`${this.prefix}.${node}.peer_events`, encode(payload));
  }

  /** The bridge's status of lnd, on `<prefix>.<node>.status` (SPEC 4.4). */
  status(node: string, payload: unknown): void {
    this.nc.publish(`${this.prefix}.${node}.status`, encode(payload));
  }

  /** Resolves once the server has every message published so far. */
  flush(): Promise<void> {
    return this.nc.flush();
  }

  async close(): Promise<void> {
    if (!this.nc.isClosed()) await this.nc.close();
  }
}

function encode(payload: unknown): Uint8Array {
  return payload instanceof Uint8Array ? payload : bytes(payload);
}

export interface E2eExporterOptions extends ExporterOptions {
  /** NATS subject prefix (each test its own). */
  readonly prefix: string;
  /** NATS server; the shared one by default. */
  readonly natsUrl?: string;
  /** Wait until the event subscriptions are in place (default true). */
  readonly waitForSubscriptions?: boolean;
}

/** The service on the real NATS, subscribed to its own prefix before it is returned. */
export async function startExporter(options: E2eExporterOptions): Promise<ExporterProcess> {
  const exporter = await ExporterProcess.start({
    ...options,
    args: [
      `--nats.url=${options.natsUrl ?? SHARED_NATS_URL}`,
      `--nats.subject-prefix=${options.prefix}`,
      ...(options.args ?? []),
    ],
  });
  try {
    if (options.waitForSubscriptions ?? true) {
      await exporter.waitForLog((l) => l.msg === 'subscribed to channel and peer events');
    }
  } catch (err) {
    await exporter.dispose();
    throw err;
  }
  return exporter;
}

/** GET /metrics, parsed strictly. */
export async function scrape(exporter: ExporterProcess): Promise<Map<string, Family>> {
  const response = await fetch(`${exporter.url}/metrics`);
  if (response.status !== 200) throw new Error(`/metrics answered ${response.status}`);
  return parseExposition(await response.text());
}

/** Samples of a family whose labels include `labels`. */
function matching(
  families: Map<string, Family>,
  name: string,
  labels: Readonly<Record<string, string>>,
) {
  return (families.get(name)?.samples ?? []).filter((s) =>
    Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
}

/** The value of the one sample with these labels; undefined when absent. */
export function sampleValue(
  families: Map<string, Family>,
  name: string,
  labels: Readonly<Record<string, string>> = {},
): number | undefined {
  const found = matching(families, name, labels);
  if (found.length > 1)
    throw new Error(`${name}${JSON.stringify(labels)}: ${found.length} samples`);
  return found[0]?.value;
}

/** The sum over the samples with these labels (0 when none). */
export function sumValues(
  families: Map<string, Family>,
  name: string,
  labels: Readonly<Record<string, string>> = {},
): number {
  return matching(families, name, labels).reduce((sum, s) => sum + s.value, 0);
}

/** Messages applied for a node, from chanfitness_events_total. */
export async function appliedEvents(exporter: ExporterProcess, node: string): Promise<number> {
  return sumValues(await scrape(exporter), 'chanfitness_events_total', { node });
}

export interface GraphQLErrorJson {
  readonly message: string;
  readonly path?: (string | number)[];
  readonly extensions?: { readonly code?: string };
}

export interface GraphQLResult<T> {
  readonly status: number;
  readonly data?: T | null;
  readonly errors?: GraphQLErrorJson[];
}

/** POST /graphql. */
export async function graphql<T = Record<string, unknown>>(
  exporter: ExporterProcess,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<GraphQLResult<T>> {
  const response = await fetch(`${exporter.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as Omit<GraphQLResult<T>, 'status'>;
  return { status: response.status, ...body };
}

/** POST /graphql expecting no error; returns the data. */
export async function query<T = Record<string, unknown>>(
  exporter: ExporterProcess,
  text: string,
  variables: Record<string, unknown> = {},
): Promise<T> {
  const result = await graphql<T>(exporter, text, variables);
  if (result.errors !== undefined || result.data === undefined || result.data === null) {
    throw new Error(`GraphQL answered ${result.status}: ${JSON.stringify(result)}`);
  }
  return result.data;
}

/** The codes of a result's errors. */
export function errorCodes(result: GraphQLResult<unknown>): (string | undefined)[] {
  return (result.errors ?? []).map((e) => e.extensions?.code);
}

/** A flap record as read back from a store, unwrapped from Keyv's envelope. */
export interface RawFlapRecord {
  readonly count: number;
  readonly lastFlap: string;
}

/** The key the exporter stores a peer's record under (namespace `chanfitness`, SPEC 4). */
export function flapKey(node: string, pubkey: string): string {
  return `chanfitness:flap:${node}:${pubkey}`;
}

/** A stored value: `{"count","lastFlap"}`, bare or in Keyv's `{"value": …}` envelope. */
export function decodeRawRecord(text: string | null | undefined): RawFlapRecord | undefined {
  if (text === null || text === undefined) return undefined;
  const parsed = JSON.parse(text) as Record<string, unknown>;
  const value = (Object.hasOwn(parsed, 'value') ? parsed.value : parsed) as RawFlapRecord;
  return { count: value.count, lastFlap: value.lastFlap };
}

/**
 * One backend the exporter can be pointed at, read directly (not through the
 * exporter) to see what it wrote, and cleaned of the test's keys afterwards.
 */
export interface BackendAccess {
  readonly name: 'sqlite' | 'redis' | 'postgres';
  /** The --store.url of the exporter. */
  readonly url: string;
  read(node: string, pubkey: string): Promise<RawFlapRecord | undefined>;
  /** Removes every record of these nodes and closes what it opened. */
  cleanup(nodes: readonly string[]): Promise<void>;
  /** Closes what it opened, removing nothing (for a private server that is gone). */
  close(): Promise<void>;
}

/** A SQLite file in a temp dir of its own (removed by cleanup). */
export async function sqliteAccess(): Promise<BackendAccess> {
  const dir = await mkdtemp(join(tmpdir(), 'chanfitness-e2e-sqlite-'));
  const url = `sqlite://${join(dir, 'flaps.sqlite')}`;
  let reader: KeyvSqlite | undefined;
  return {
    name: 'sqlite',
    url,
    async read(node, pubkey) {
      // Opened once the exporter has created the file and its table.
      reader ??= new KeyvSqlite({ uri: url });
      return decodeRawRecord(await reader.get<string>(flapKey(node, pubkey)));
    },
    async cleanup() {
      await reader?.disconnect();
      await rm(dir, { recursive: true, force: true });
    },
    async close() {
      await reader?.disconnect();
    },
  };
}

export interface RedisAccess extends BackendAccess {
  /** Stores a value as is under a peer's key, as another writer of the store would. */
  writeRaw(node: string, pubkey: string, text: string): Promise<void>;
}

/** A Redis server (the shared one by default); cleanup deletes the nodes' keys. */
export async function redisAccess(url = SHARED_REDIS_URL): Promise<RedisAccess> {
  const client = createClient({ url, socket: { reconnectStrategy: 100, connectTimeout: 2_000 } });
  // A private server may be killed by the test: its errors are expected, not fatal.
  client.on('error', () => undefined);
  await client.connect();
  return {
    name: 'redis',
    url,
    async read(node, pubkey) {
      return decodeRawRecord(await client.get(flapKey(node, pubkey)));
    },
    async writeRaw(node, pubkey, text) {
      await client.set(flapKey(node, pubkey), text);
    },
    async cleanup(nodes) {
      try {
        for (const node of nodes) {
          const keys = await client.keys(`${flapKey(node, '')}*`);
          if (keys.length > 0) await client.del(keys);
        }
      } finally {
        client.destroy();
      }
    },
    close() {
      client.destroy();
      return Promise.resolve();
    },
  };
}

/** The shared PostgreSQL database, table `keyv`; cleanup deletes the nodes' rows. */
export function postgresAccess(url = SHARED_POSTGRES_URL): Promise<BackendAccess> {
  let admin: KeyvPostgres | undefined;
  // Opened at first use, once the exporter has created the table.
  const open = () => (admin ??= new KeyvPostgres({ uri: url, table: 'keyv' }));
  return Promise.resolve({
    name: 'postgres',
    url,
    async read(node, pubkey) {
      return decodeRawRecord((await open().get(flapKey(node, pubkey))) as string | undefined);
    },
    async cleanup(nodes) {
      const db = open();
      try {
        for (const node of nodes) {
          await db.query('DELETE FROM public.keyv WHERE key LIKE $1', [`${flapKey(node, '')}%`]);
        }
      } finally {
        await db.disconnect();
      }
    },
    async close() {
      await admin?.disconnect();
    },
  });
}
