import { request } from 'node:https';
import type { NatsConnection } from 'nats';
import { poll } from '../../support/eventually.js';
import { bytes, peerEventJson } from '../../support/lnd-json.js';
import { pubkey } from '../../support/store-fixture.js';

/** The value of one sample of a text exposition, matched on the labels given (others ignored). */
export function sampleValue(
  exposition: string,
  name: string,
  labels: Readonly<Record<string, string>> = {},
): number | undefined {
  for (const line of exposition.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    if (match?.[1] !== name) continue;
    const found = new Map(
      [...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]),
    );
    if (Object.entries(labels).every(([key, value]) => found.get(key) === value)) {
      return Number(match[3]);
    }
  }
  return undefined;
}

export interface HttpAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: string;
}

/** A GET or POST over HTTPS trusting `ca` (fetch cannot be given a CA). */
export function httpsRequest(
  url: string,
  ca: Buffer,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: init.method ?? 'GET', headers: init.headers, ca }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

/**
 * Publishes a PEER_ONLINE event of `node` (through a connection that holds the right
 * credentials) until the exporter's /metrics counts it: proof that the exporter
 * is subscribed and consuming. Republishing covers the moment between the
 * exporter logging its subscription and the server having it.
 */
export async function publishUntilCounted(
  nc: NatsConnection,
  exporterUrl: string,
  subjectPrefix: string,
  node: string,
  headers: Record<string, string> = {},
): Promise<number> {
  const subject = `${subjectPrefix}.${node}.peer_events`;
  return poll(async () => {
    nc.publish(subject, bytes(peerEventJson(pubkey(1), true)));
    await nc.flush();
    const metrics = await (await fetch(`${exporterUrl}/metrics`, { headers })).text();
    return sampleValue(metrics, 'chanfitness_events_total', { node, kind: 'peer' });
  }, `the exporter to count a peer event of ${node}`);
}
