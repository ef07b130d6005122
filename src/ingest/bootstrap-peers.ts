/**
 * The connected peers each node listed at bootstrap (ListPeers): the store's
 * connectivity for a peer no event has been seen for.
 */
export class BootstrapPeers {
  private readonly online = new Map<string, ReadonlySet<string>>();
  private readonly versions = new Map<string, number>();

  set(node: string, onlinePeers: ReadonlySet<string>): void {
    this.online.set(node, onlinePeers);
    this.versions.set(node, (this.versions.get(node) ?? 0) + 1);
  }

  /** The node's last listing of connected peers; undefined before any. */
  get(node: string): ReadonlySet<string> | undefined {
    return this.online.get(node);
  }

  /** Bumped at each listing of the node (history writes the list again only then). */
  version(node: string): number {
    return this.versions.get(node) ?? 0;
  }

  /** Whether the node's last listing had the peer connected; undefined before any listing. */
  connectivity(node: string, pubkey: string): boolean | undefined {
    return this.online.get(node)?.has(pubkey);
  }
}
