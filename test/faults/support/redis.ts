import { readFile } from 'node:fs/promises';
import { createClient } from '@keyv/redis';

/** A flap record as the exporter stored it (SPEC 4), or undefined when the key is absent. */
export interface StoredRecord {
  readonly count: number;
  readonly lastFlap: string;
}

/**
 * Reads `chanfitness:flap:<node>:<pubkey>` straight from Redis (not through
 * the exporter's store code): peer -> stored record.
 */
export async function readFlapKeys(
  url: string,
  node: string,
  pubkeys: readonly string[],
): Promise<Map<string, StoredRecord>> {
  const client = createClient({ url, socket: { connectTimeout: 2_000, reconnectStrategy: false } });
  client.on('error', () => undefined);
  await client.connect();
  try {
    const out = new Map<string, StoredRecord>();
    for (const pubkey of pubkeys) {
      const text = await client.get(`chanfitness:flap:${node}:${pubkey}`);
      if (text === null) continue;
      const parsed = JSON.parse(text) as { value?: StoredRecord } & Partial<StoredRecord>;
      // Keyv wraps values as {"value": …}; SPEC 4's record is what is inside.
      const record = parsed.value ?? (parsed as StoredRecord);
      out.set(pubkey, { count: record.count, lastFlap: record.lastFlap });
    }
    return out;
  } finally {
    client.destroy();
  }
}

/** Peer -> stored count, for comparing with a tally; undefined while Redis cannot be read. */
export async function tryReadCounts(
  url: string,
  node: string,
  pubkeys: readonly string[],
): Promise<Map<string, number> | undefined> {
  try {
    const records = await readFlapKeys(url, node, pubkeys);
    return new Map([...records].map(([pk, r]) => [pk, r.count]));
  } catch {
    return undefined;
  }
}

/**
 * Bytes received on loopback TCP connections to `port` that the listening
 * process has not read yet (Linux /proc/net/tcp rx_queue). With the server
 * frozen (SIGSTOP), a non-zero value means a client command is in flight.
 */
export async function unreadBytesTo(port: number): Promise<number> {
  const table = await readFile('/proc/net/tcp', 'utf8');
  const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  let total = 0;
  for (const line of table.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    // sl local rem st tx_queue:rx_queue ...; st 01 is ESTABLISHED.
    if (fields[1] !== local || fields[3] !== '01') continue;
    const rx = fields[4]?.split(':')[1];
    if (rx !== undefined) total += parseInt(rx, 16);
  }
  return total;
}
