import { isIPv4, isIPv6 } from 'node:net';
import { HttpServerError } from './errors.js';

/** Where the HTTP server listens. An empty host means every interface. */
export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

/** Loopback only: nothing is reachable from elsewhere unless configured. */
export const DEFAULT_LISTEN_ADDRESS = '127.0.0.1:9766';

const HOSTNAME =
  /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$/;
const PORT = /^[0-9]{1,5}$/;

/**
 * Parses `--web.listen-address` as Prometheus exporters spell it: `host:port`,
 * `[ipv6]:port`, or `:port` for every interface. Port 0 asks for any free port.
 */
export function parseListenAddress(value: string): ListenAddress {
  const fail = (why: string): HttpServerError =>
    new HttpServerError(
      'INVALID_LISTEN_ADDRESS',
      `invalid --web.listen-address ${JSON.stringify(value)}: ${why} (expected host:port, e.g. 127.0.0.1:9766, [::1]:9766 or :9766)`,
    );
  let host: string;
  let portText: string;
  if (value.startsWith('[')) {
    const close = value.indexOf(']');
    if (close < 0 || value[close + 1] !== ':') throw fail('an IPv6 address needs [brackets]:port');
    host = value.slice(1, close);
    portText = value.slice(close + 2);
    if (!isIPv6(host)) throw fail(`${JSON.stringify(host)} is not an IPv6 address`);
  } else {
    const colon = value.lastIndexOf(':');
    if (colon < 0) throw fail('the port is missing');
    host = value.slice(0, colon);
    portText = value.slice(colon + 1);
    if (host.includes(':')) throw fail('an IPv6 address must be in brackets');
    if (host !== '' && !isIPv4(host) && !HOSTNAME.test(host)) {
      throw fail(`${JSON.stringify(host)} is not a host name or IP address`);
    }
  }
  const port = Number(portText);
  if (!PORT.test(portText) || port > 65535) {
    throw fail(`${JSON.stringify(portText)} is not a port (0-65535)`);
  }
  return { host, port };
}

/** The address as parseListenAddress reads it: IPv6 hosts in brackets. */
export function formatListenAddress(address: ListenAddress): string {
  const host = address.host.includes(':') ? `[${address.host}]` : address.host;
  return `${host}:${address.port}`;
}

/** True when only this machine can reach the address. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || (isIPv4(host) && host.startsWith('127.'));
}
