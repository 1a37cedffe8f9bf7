/**
 * etcd's state between bench scenarios, through its v3 JSON gateway (etcd 3.4: `/v3/...` on the client
 * URL; 64-bit integers travel as strings).
 */

export interface EtcdStatus {
  /** The newest revision: every write since the cluster started. */
  revision: number;
  /** The bbolt file's size, free pages included. */
  dbSize: number;
  /** What of it holds data (etcd ≥ 3.4). */
  dbSizeInUse?: number;
}

async function post<T>(etcdUrl: string, path: string, body: object): Promise<T> {
  const res = await fetch(`${etcdUrl}${path}`, { method: "POST", body: JSON.stringify(body) });
  const text = await res.text();
  if (!res.ok) throw new Error(`etcd ${path}: ${res.status} ${text.slice(0, 200)}`);
  return JSON.parse(text) as T;
}

/** The gateway's status answer as numbers (its int64 fields are JSON strings). */
export function parseStatus(answer: {
  header?: { revision?: string };
  dbSize?: string;
  dbSizeInUse?: string;
}): EtcdStatus {
  const revision = Number(answer.header?.revision);
  const dbSize = Number(answer.dbSize);
  if (!Number.isFinite(revision) || !Number.isFinite(dbSize)) throw new Error("etcd status without revision or dbSize");
  const inUse = answer.dbSizeInUse === undefined ? undefined : Number(answer.dbSizeInUse);
  return { revision, dbSize, ...(inUse !== undefined && Number.isFinite(inUse) ? { dbSizeInUse: inUse } : {}) };
}

export async function etcdStatus(etcdUrl: string): Promise<EtcdStatus> {
  return parseStatus(await post(etcdUrl, "/v3/maintenance/status", {}));
}

/**
 * Drops every revision but the newest (kube-apiserver itself compacts only every 5 minutes) and
 * rewrites the database without its free pages, so that the next scenario starts on an etcd that does
 * not carry the history of the previous ones.
 */
export async function compactAndDefragment(etcdUrl: string): Promise<void> {
  const { revision } = await etcdStatus(etcdUrl);
  try {
    await post(etcdUrl, "/v3/kv/compaction", { revision: String(revision), physical: true });
  } catch (err) {
    // kube-apiserver's own compaction got there first: nothing older is left.
    if (!/compacted/.test((err as Error).message)) throw err;
  }
  await post(etcdUrl, "/v3/maintenance/defragment", {});
}
