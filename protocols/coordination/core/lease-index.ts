/**
 * Which names (resources, barriers, roles) a lease has something in, with a count per name, so a
 * revocation visits only what the lease touches. Derived data: rebuilt on restore, never in a
 * snapshot, so `names` is sorted to give every replica the same order whatever the history.
 */
export class LeaseIndex {
  private readonly byLease = new Map<string, { names: Map<string, number>, total: number }>()

  add (lease: string, name: string): void {
    let e = this.byLease.get(lease)
    if (e === undefined) {
      e = { names: new Map(), total: 0 }
      this.byLease.set(lease, e)
    }
    e.names.set(name, (e.names.get(name) ?? 0) + 1)
    e.total++
  }

  remove (lease: string, name: string): void {
    const e = this.byLease.get(lease)
    const n = e?.names.get(name)
    if (e === undefined || n === undefined) return
    if (n > 1) e.names.set(name, n - 1)
    else e.names.delete(name)
    if (--e.total === 0) this.byLease.delete(lease)
  }

  /** The names the lease has something in, sorted (by UTF-16 code units). */
  names (lease: string): string[] {
    const e = this.byLease.get(lease)
    if (e === undefined) return []
    return e.names.size === 1 ? [...e.names.keys()] : [...e.names.keys()].sort()
  }

  has (lease: string, name: string): boolean {
    return this.byLease.get(lease)?.names.has(name) ?? false
  }

  count (lease: string): number {
    return this.byLease.get(lease)?.total ?? 0
  }

  clear (): void {
    this.byLease.clear()
  }
}
