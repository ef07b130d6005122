import { isIP, isIPv6 } from 'node:net';

import type { ListenAddress } from './settings.js';
import { InvalidValueError } from './settings-error.js';

const BRACKETED = /^\[([^\]]*)\]:([^:]*)$/;
const PLAIN = /^([^:[\]]*):([^:]*)$/;
const HOSTNAME =
  /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i;
const EXAMPLE = '(e.g. 127.0.0.1:9766, [::1]:9766, :9766)';

/** `host:port`, `[ipv6]:port` or `:port` (all interfaces); port 0-65535. */
export function parseListenAddress(text: string): ListenAddress {
  const match = BRACKETED.exec(text) ?? PLAIN.exec(text);
  if (match === null) {
    throw new InvalidValueError(`"${text}" is not host:port ${EXAMPLE}`);
  }
  const [, host = '', portText = ''] = match;
  const bracketed = text.startsWith('[');
  if (bracketed && !isIPv6(host)) {
    throw new InvalidValueError(`"${host}" in "${text}" is not an IPv6 address`);
  }
  if (!bracketed && host !== '' && !isHost(host)) {
    throw new InvalidValueError(`"${host}" in "${text}" is not a host name or IPv4 address`);
  }
  const port = /^\d{1,5}$/.test(portText) ? Number(portText) : Number.NaN;
  if (!(port >= 0 && port <= 65535)) {
    throw new InvalidValueError(`"${portText}" in "${text}" is not a port (0-65535)`);
  }
  return { address: text, host: host === '' ? undefined : host, port };
}

function isHost(host: string): boolean {
  // Dotted numbers that are not an IPv4 address (999.1.1.1) would otherwise pass as a name.
  return isIP(host) === 4 || (HOSTNAME.test(host) && !/^[\d.]+$/.test(host));
}
