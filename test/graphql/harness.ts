import type { GraphQLServerDeps } from '../../src/graphql/server.js';
import { createGraphQLServer } from '../../src/graphql/server.js';
import { RecordGate, type NodeRecordGate } from '../../src/ingest/record-gate.js';
import { ChannelEventStore } from '../../src/store/channel-event-store.js';
import { NodeStores } from '../../src/store/node-stores.js';
import type { FlapRecord } from '../../src/store/peer-monitor.js';
import { captureLogger, type CapturedLog } from '../support/log-capture.js';
import { TestClock } from '../support/test-clock.js';

export { channelPoint, pubkey } from '../support/store-fixture.js';
export { HOUR, MINUTE, SECOND } from '../support/test-clock.js';

/** Where every harness clock starts. */
export const T0 = Date.parse('2024-05-01T00:00:00Z');

/** `T0 + ms` as the API prints it. */
export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export interface GraphQLErrorJson {
  readonly message: string;
  readonly path?: (string | number)[];
  readonly extensions?: { readonly code?: string };
}

export interface GraphQLResponse {
  readonly status: number;
  readonly data?: Record<string, unknown> | null;
  readonly errors?: GraphQLErrorJson[];
}

export interface HarnessOptions {
  /** Nodes whose stores exist from the start; ['alice'] by default. */
  readonly nodes?: readonly string[];
  readonly deps?: Partial<GraphQLServerDeps>;
}

/**
 * Real channel event stores on a test clock, a map of persisted flap records
 * standing in for the persistence layer (the store's reads and the API's both
 * come from it), and the GraphQL server, reached in process through yoga's fetch.
 */
export class Harness {
  readonly clock = new TestClock(T0);
  /** Persisted flap records by `<node>:<pubkey>`. */
  readonly persisted = new Map<string, FlapRecord>();
  /** When true, the stores' record reads wait until releaseReads(). */
  holdReads = false;
  private readonly heldReads: (() => void)[] = [];
  readonly log: CapturedLog = captureLogger();
  readonly stores: NodeStores;
  /** What events go through, as the ingest submits them: the stores' record reads. */
  readonly gate = new RecordGate({ read: (node, pk) => this.readStoreRecord(node, pk) });
  readonly server: ReturnType<typeof createGraphQLServer>;

  constructor(options: HarnessOptions = {}) {
    this.stores = new NodeStores(
      (node) =>
        new ChannelEventStore({
          node,
          clock: this.clock,
        }),
    );
    for (const node of options.nodes ?? ['alice']) this.stores.getOrCreate(node);
    this.server = createGraphQLServer({
      stores: this.stores,
      clock: this.clock,
      readPersistedFlapRecord: (node, pk) => Promise.resolve(this.persisted.get(`${node}:${pk}`)),
      heldChannelPeer: (node, cp) => this.gate.heldChannelPeer(node, cp),
      logger: this.log.logger,
      introspection: true,
      graphiql: true,
      ...options.deps,
    });
  }

  private readStoreRecord(node: string, pk: string): Promise<FlapRecord | undefined> {
    const record = this.persisted.get(`${node}:${pk}`);
    if (!this.holdReads) return Promise.resolve(record);
    return new Promise((resolve) => {
      this.heldReads.push(() => {
        resolve(record);
      });
    });
  }

  /** Lets every held record read complete. */
  releaseReads(): void {
    this.holdReads = false;
    for (const release of this.heldReads.splice(0)) release();
  }

  store(node = 'alice'): ChannelEventStore {
    return this.stores.getOrCreate(node);
  }

  /** The gate of a node's store: its events go through it (openChannel, peerEvent, closeChannel). */
  events(node = 'alice'): NodeRecordGate {
    return this.gate.of(this.store(node));
  }

  /** Resolves once every event submitted through the gate is applied. */
  idle(): Promise<void> {
    return this.gate.idle();
  }

  /** Opens a channel and waits until the store has applied it. */
  async open(pk: string, cp: string, time: number, node = 'alice'): Promise<void> {
    this.events(node).openChannel(pk, cp, time);
    await this.idle();
  }

  async post(body: unknown, headers: Record<string, string> = {}): Promise<Response> {
    return this.server.fetch('http://localhost/graphql', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json',
        ...headers,
      },
      body: JSON.stringify(body),
    });
  }

  async query(query: string, variables?: Record<string, unknown>): Promise<GraphQLResponse> {
    const response = await this.post({ query, variables });
    const body = (await response.json()) as Omit<GraphQLResponse, 'status'>;
    return { status: response.status, ...body };
  }

  /** The data of a query that must succeed. */
  async data<T = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
  ): Promise<T> {
    const result = await this.query(query, variables);
    if (result.errors !== undefined || result.data == null) {
      throw new Error(`query failed: ${JSON.stringify(result)}`);
    }
    return result.data as T;
  }

  /** The single error of a query that must fail, with its code. */
  async error(
    query: string,
    variables?: Record<string, unknown>,
  ): Promise<{ code: string | undefined; message: string; data: unknown }> {
    const result = await this.query(query, variables);
    if (result.errors?.length !== 1)
      throw new Error(`expected one error: ${JSON.stringify(result)}`);
    const [error] = result.errors;
    return { code: error!.extensions?.code, message: error!.message, data: result.data };
  }
}
