import { isIPv4 } from 'node:net';

/** The address a server is bound to. */
export interface BoundAddress {
  readonly host: string;
  readonly port: number;
}

/** `host:port`, IPv6 hosts in brackets; an undefined host (every interface) as `:port`. */
export function formatHostPort(host: string | undefined, port: number): string {
  const shown = host === undefined ? '' : host.includes(':') ? `[${host}]` : host;
  return `${shown}:${port}`;
}

/** True when only this machine can reach the address. */
export function isLoopback(host: string | undefined): boolean {
  if (host === undefined) return false;
  return host === 'localhost' || host === '::1' || (isIPv4(host) && host.startsWith('127.'));
}
