import { redactUrl } from '../log/redact-url.js';
import { InvalidValueError } from './settings-error.js';
import { describeSetting } from './settings-reader.js';
import { splitList } from './scalar-values.js';

/** A NATS subject token: no separator, wildcard or whitespace. */
const SUBJECT_TOKEN = /^[^\s.*>]+$/u;
/** JetStream stream and consumer names: no whitespace, '.', wildcards or path separators. */
const JETSTREAM_NAME = /^[^\s.*>/\\]+$/u;

/**
 * Comma-separated server URLs. Only nats:// and tls://: the nats.js client for Node
 * speaks TCP only (a ws:// URL would open a plain TCP connection to the WebSocket port),
 * and it ignores credentials inside URLs.
 */
export function parseNatsServers(text: string): string[] {
  return splitList(text).map(parseNatsServer);
}

function parseNatsServer(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new InvalidValueError(`"${redactUrl(text)}" is not a URL (e.g. nats://127.0.0.1:4222)`);
  }
  if (url.protocol === 'ws:' || url.protocol === 'wss:') {
    throw new InvalidValueError(
      `"${redactUrl(text)}": WebSocket is not supported; use the server's client port with nats:// or tls://`,
    );
  }
  if (url.protocol !== 'nats:' && url.protocol !== 'tls:') {
    throw new InvalidValueError(`"${redactUrl(text)}" must start with nats:// or tls://`);
  }
  if (url.username !== '' || url.password !== '') {
    throw new InvalidValueError(
      `"${url.protocol}//…@${url.host}": credentials in the URL are not used; ` +
        `set ${describeSetting('nats.user')} and ${describeSetting('nats.password')}, ` +
        `${describeSetting('nats.token')} or ${describeSetting('nats.creds')}`,
    );
  }
  if (url.hostname === '') {
    throw new InvalidValueError(`"${text}" has no host`);
  }
  if (url.port === '' || url.port === '0') {
    throw new InvalidValueError(`"${text}" has no port (e.g. nats://127.0.0.1:4222)`);
  }
  if ((url.pathname !== '' && url.pathname !== '/') || url.search !== '' || url.hash !== '') {
    throw new InvalidValueError(`"${text}" must not have a path, query or fragment`);
  }
  return `${url.protocol}//${url.host}`;
}

/** One or more dot-separated subject tokens, e.g. `lnd` or `prod.lnd`. */
export function parseSubjectPrefix(text: string): string {
  if (!text.split('.').every((token) => SUBJECT_TOKEN.test(token))) {
    throw new InvalidValueError(
      `"${text}" is not a subject prefix: dot-separated tokens without spaces or wildcards (e.g. lnd)`,
    );
  }
  return text;
}

/** Comma-separated node names, each one subject token; duplicates are dropped. */
export function parseNodeNames(text: string): string[] {
  const nodes = splitList(text);
  const bad = nodes.find((node) => !SUBJECT_TOKEN.test(node));
  if (bad !== undefined) {
    throw new InvalidValueError(
      `"${bad}" is not a node name: one subject token, without '.', spaces or wildcards`,
    );
  }
  return [...new Set(nodes)];
}

/** One node name: one subject token (the `<node>` of `<prefix>.<node>.*`). */
export function parseNodeName(text: string): string {
  if (!SUBJECT_TOKEN.test(text)) {
    throw new InvalidValueError(
      `"${text}" is not a node name: one subject token, without '.', spaces or wildcards`,
    );
  }
  return text;
}

/** A stream or durable consumer name. */
export function parseJetStreamName(text: string): string {
  if (!JETSTREAM_NAME.test(text)) {
    throw new InvalidValueError(
      `"${text}" is not a JetStream name: no spaces, '.', '*', '>', '/' or '\\'`,
    );
  }
  return text;
}
