/**
 * The connected peers each node listed at bootstrap (ListPeers): the store's
 * connectivity for a peer no event has been seen for.
 */
export class BootstrapPeers {
  private readonly online = new Map<string, ReadonlySet<string>>();

  set(node: string, onlinePeers: ReadonlySet<string>): void {
    this.online.set(node, onlinePeers);
  }

  /** Whether the node's last listing had the peer connected; undefined before any listing. */
  connectivity(node: string, pubkey: string): boolean | undefined {
    return this.online.get(node)?.has(pubkey);
  }
}
