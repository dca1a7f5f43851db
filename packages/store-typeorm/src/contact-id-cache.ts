/**
 * Contact ids this process has seen committed, per installation. A contact's id never changes once
 * it exists (contacts are only ever inserted, with ON CONFLICT DO NOTHING), and contacts disappear
 * only when an uninstalled installation is purged, when no page is written for it any more. So a
 * known id saves a page both the insert and the look-up of that e-mail: a backfill meets each
 * customer several times, an hourly run mostly customers it has met before.
 */
export class ContactIdCache {
  private readonly byInstallation = new Map<string, Map<string, string>>();
  private size = 0;

  /** @param capacity ids kept at most; past it the cache starts over (about 150 bytes an entry: 50,000 keep a backfill's memory flat at ~7 MB, where 200,000 grew it by 30 MB). */
  constructor(private readonly capacity = 50_000) {}

  get(installationId: string, email: string): string | undefined {
    return this.byInstallation.get(installationId)?.get(email);
  }

  /** Remembers ids whose contacts are committed (never ids of a transaction that may still roll back). */
  remember(installationId: string, ids: ReadonlyMap<string, string>): void {
    if (ids.size === 0) return;
    if (this.size + ids.size > this.capacity) this.clear();
    let known = this.byInstallation.get(installationId);
    if (!known) this.byInstallation.set(installationId, (known = new Map()));
    for (const [email, id] of ids) {
      if (known.has(email)) continue;
      if (this.size >= this.capacity) return;
      known.set(email, id);
      this.size += 1;
    }
  }

  /** Forgets an installation's ids (its contacts are purged). */
  forget(installationId: string): void {
    this.size -= this.byInstallation.get(installationId)?.size ?? 0;
    this.byInstallation.delete(installationId);
  }

  clear(): void {
    this.byInstallation.clear();
    this.size = 0;
  }
}
