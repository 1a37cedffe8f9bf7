/**
 * The external-provisioner half of the stand-in for open-local's CSI controller (the driver's
 * CreateVolume is open-local-driver.ts, re-exported here): which claims it provisions, the PV it
 * creates, and `OpenLocalCsiStandIn`, the controller that watches the API server and applies both.
 */
import { Informer } from "./informer.js";
import type { KubeApi } from "./kube-api.js";
import {
  createVolume,
  DRIVER,
  GrpcError,
  provisioningStateOf,
  SELECTED_NODE,
  type CreateVolumeResult,
  type DriverOptions,
} from "./open-local-driver.js";
import { WorkQueue } from "./work-queue.js";

export * from "./open-local-driver.js";

const STORAGE_PROVISIONER = "volume.kubernetes.io/storage-provisioner";

interface Meta {
  name: string;
  namespace?: string;
  uid: string;
  resourceVersion?: string;
  annotations?: Record<string, string>;
  creationTimestamp?: string;
}
interface Pvc {
  metadata: Meta;
  spec: {
    storageClassName?: string;
    volumeName?: string;
    accessModes?: string[];
    volumeMode?: string;
    resources?: { requests?: { storage?: string } };
  };
}
interface StorageClass {
  metadata: Meta;
  provisioner: string;
  parameters?: Record<string, string>;
  reclaimPolicy?: string;
  mountOptions?: string[];
  volumeBindingMode?: string;
}
interface Pod {
  metadata: Meta;
  spec: { schedulerName?: string; volumes?: Array<{ persistentVolumeClaim?: { claimName: string } }> };
}

/** Bytes of a quantity as the API server stores a PVC request (binary or decimal suffix, or none). */
export function quantityBytes(q: string): number {
  const m = /^(\d+)(Ki|Mi|Gi|Ti|Pi|k|M|G|T|P)?$/.exec(q);
  if (!m) throw new Error(`unsupported quantity ${q}`);
  const mult: Record<string, number> = {
    Ki: 2 ** 10,
    Mi: 2 ** 20,
    Gi: 2 ** 30,
    Ti: 2 ** 40,
    Pi: 2 ** 50,
    k: 1e3,
    M: 1e6,
    G: 1e9,
    T: 1e12,
    P: 1e15,
  };
  return Number(m[1]) * (m[2] ? mult[m[2]]! : 1);
}

/** The PV external-provisioner creates from a successful CreateVolume. */
export function provisionedPv(pvc: Pvc, sc: StorageClass, result: CreateVolumeResult, identity: string): object {
  const params = sc.parameters ?? {};
  return {
    apiVersion: "v1",
    kind: "PersistentVolume",
    metadata: { name: result.volumeId, annotations: { "pv.kubernetes.io/provisioned-by": DRIVER } },
    spec: {
      accessModes: pvc.spec.accessModes,
      capacity: { storage: String(result.capacityBytes) },
      claimRef: {
        apiVersion: "v1",
        kind: "PersistentVolumeClaim",
        namespace: pvc.metadata.namespace,
        name: pvc.metadata.name,
        uid: pvc.metadata.uid,
      },
      persistentVolumeReclaimPolicy: sc.reclaimPolicy ?? "Delete",
      storageClassName: sc.metadata.name,
      volumeMode: pvc.spec.volumeMode ?? "Filesystem",
      ...(sc.mountOptions ? { mountOptions: sc.mountOptions } : {}),
      nodeAffinity: {
        required: {
          nodeSelectorTerms: [
            { matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values: [result.node] }] },
          ],
        },
      },
      csi: {
        driver: DRIVER,
        volumeHandle: result.volumeId,
        ...(params["csi.storage.k8s.io/fstype"] ? { fsType: params["csi.storage.k8s.io/fstype"] } : {}),
        volumeAttributes: { ...result.volumeContext, "storage.kubernetes.io/csiProvisionerIdentity": identity },
      },
    },
  };
}

/**
 * Whether external-provisioner provisions the claim now: unbound, of a class of this driver, handed to
 * this provisioner by kube-controller-manager (`volume.kubernetes.io/storage-provisioner`) and given a
 * node by kube-scheduler (`volume.kubernetes.io/selected-node`).
 */
export function claimDue(pvc: Pvc, sc: StorageClass | undefined): boolean {
  const annotations = pvc.metadata.annotations ?? {};
  return (
    sc?.provisioner === DRIVER &&
    !pvc.spec.volumeName &&
    annotations[STORAGE_PROVISIONER] === DRIVER &&
    !!annotations[SELECTED_NODE]
  );
}

/** The wait before the next attempt after `failures` failed ones in a row (at most 5 s). */
export const retryDelayMs = (failures: number): number => Math.min(5_000, 200 * 2 ** failures);

/** The keys under which a pod is found by the claims it uses: `<namespace>/<claim>`. */
const claimKeysOf = (pod: Pod): string[] =>
  (pod.spec.volumes ?? []).flatMap((v) =>
    v.persistentVolumeClaim ? [`${pod.metadata.namespace}/${v.persistentVolumeClaim.claimName}`] : [],
  );

/** The pod whose scheduler the driver asks about: the newest of those using the claim. */
export function claimUser(pods: readonly Pod[]): Pod | undefined {
  return [...pods]
    .sort((a, b) => (a.metadata.creationTimestamp ?? "").localeCompare(b.metadata.creationTimestamp ?? ""))
    .at(-1);
}

/** One CreateVolume attempt, for the tests to read. */
export interface Attempt {
  pvc: string;
  outcome: "created" | "reschedule" | "retry";
  message: string;
}

/** What one start() … stop() holds. */
interface Run {
  stopped: boolean;
  claims: Informer<Pvc>;
  classes: Informer<StorageClass>;
  pods: Informer<Pod>;
  queue: WorkQueue<string>;
  /** Claims in backoff, put back in the queue when it elapses. */
  retries: Map<string, NodeJS.Timeout>;
  resync: NodeJS.Timeout | undefined;
  cancelStart(): void;
  workers: Promise<void>;
}

/**
 * The controller, as external-provisioner's is built: informers (a list, then a watch) keep local
 * copies of the PVCs, StorageClasses and pods; each claim that becomes due goes into a work queue
 * (once, however many events name it), and `workers` claims get a CreateVolume attempt at once, with a
 * per-claim backoff after failures; then the PV is created, the claim given back (selected-node
 * removed), or left for the next attempt, with external-provisioner's Events on the PVC.
 */
export class OpenLocalCsiStandIn {
  readonly attempts: Attempt[] = [];
  private run: Run | undefined;
  private readonly nextTry = new Map<string, { at: number; failures: number }>();
  /**
   * Claims whose PV this provisioner created: external-provisioner finds that PV in its lister and
   * provisions no second one while the binder has yet to bind the claim.
   */
  private readonly provisioned = new Set<string>();
  private readonly identity = `${Date.now()}-0000-${DRIVER}`;
  /** Events being posted: as client-go's recorder, a worker does not wait for them (stop() does). */
  private readonly recording = new Set<Promise<void>>();

  constructor(
    private readonly api: KubeApi,
    public options: DriverOptions,
    /** The informers' resync: every due claim in the local copies is queued again (nothing is fetched). */
    private readonly resyncMs = 200,
    /**
     * Claims provisioned at once (external-provisioner's `--worker-threads`, 100 by default). One keeps
     * the end-to-end suites' reserve calls in a reproducible order; the benchmark runs many.
     */
    private readonly workers = 1,
  ) {}

  start(): void {
    if (this.run) return;
    const offer = (pvc: Pvc) => {
      if (this.due(run, pvc)) run.queue.add(pvc.metadata.uid);
    };
    const claims = new Informer<Pvc>(this.api, "/api/v1/persistentvolumeclaims", {
      changed: offer,
      removed: (pvc) => this.forget(run, pvc.metadata.uid),
    });
    const classes = new Informer<StorageClass>(
      this.api,
      "/apis/storage.k8s.io/v1/storageclasses",
      {
        changed: (sc) => {
          for (const pvc of claims.cache.values()) if (pvc.spec.storageClassName === sc.metadata.name) offer(pvc);
        },
      },
      (sc) => [sc.metadata.name],
    );
    const pods = new Informer<Pod>(this.api, "/api/v1/pods", {}, claimKeysOf);
    let cancelStart = () => {};
    const cancelled = new Promise<void>((resolve) => (cancelStart = resolve));
    const run: Run = {
      stopped: false,
      claims,
      classes,
      pods,
      queue: new WorkQueue(),
      retries: new Map(),
      resync: undefined,
      cancelStart,
      workers: Promise.resolve(),
    };
    this.run = run;
    for (const informer of [claims, classes, pods]) informer.start();
    // As external-provisioner, no claim is worked on before every local copy holds its first list.
    run.workers = Promise.race([Promise.all([claims.synced, classes.synced, pods.synced]), cancelled]).then(
      async () => {
        if (run.stopped) return;
        const offerAll = () => {
          for (const pvc of claims.cache.values()) offer(pvc);
        };
        offerAll();
        run.resync = setInterval(offerAll, this.resyncMs);
        await Promise.all(
          Array.from({ length: this.workers }, async () => {
            for (let uid = await run.queue.next(); uid !== undefined; uid = await run.queue.next()) {
              try {
                await this.process(run, uid);
              } finally {
                run.queue.done(uid);
              }
            }
          }),
        );
      },
    );
  }

  /** Stops watching and waiting; the claims in hand finish, the rest of the queue is left. */
  async stop(): Promise<void> {
    const run = this.run;
    if (!run) return;
    this.run = undefined;
    run.stopped = true;
    run.cancelStart();
    clearInterval(run.resync);
    for (const timer of run.retries.values()) clearTimeout(timer);
    run.retries.clear();
    for (const informer of [run.claims, run.classes, run.pods]) informer.stop();
    run.queue.shutdown();
    await run.workers;
    await Promise.all(this.recording);
  }

  private classOf(run: Run, pvc: Pvc): StorageClass | undefined {
    return run.classes.cache.byIndex(pvc.spec.storageClassName ?? "")[0];
  }

  private due(run: Run, pvc: Pvc): boolean {
    return !this.provisioned.has(pvc.metadata.uid) && claimDue(pvc, this.classOf(run, pvc));
  }

  /** A deleted claim: nothing of it is kept. */
  private forget(run: Run, uid: string): void {
    this.nextTry.delete(uid);
    this.provisioned.delete(uid);
    clearTimeout(run.retries.get(uid));
    run.retries.delete(uid);
  }

  /** Queues the claim again in `ms`, replacing an earlier timer unless `keep`. */
  private retryAfter(run: Run, uid: string, ms: number, keep = false): void {
    if (run.stopped || (keep && run.retries.has(uid))) return;
    clearTimeout(run.retries.get(uid));
    run.retries.set(
      uid,
      setTimeout(() => {
        run.retries.delete(uid);
        run.queue.add(uid);
      }, ms),
    );
  }

  private backOff(run: Run, uid: string, failures: number): void {
    const delay = retryDelayMs(failures);
    this.nextTry.set(uid, { at: Date.now() + delay, failures: failures + 1 });
    this.retryAfter(run, uid, delay);
  }

  /** One queued claim: provisioned if it is (still) due and out of its backoff. */
  private async process(run: Run, uid: string): Promise<void> {
    const pvc = run.claims.cache.get(uid);
    if (!pvc || !this.due(run, pvc)) return;
    const backoff = this.nextTry.get(uid);
    const wait = backoff ? backoff.at - Date.now() : 0;
    if (wait > 0) return this.retryAfter(run, uid, wait, true);
    const failures = backoff?.failures ?? 0;
    const users = run.pods.cache.byIndex(`${pvc.metadata.namespace}/${pvc.metadata.name}`);
    try {
      await this.provision(run, pvc, this.classOf(run, pvc)!, claimUser(users), failures);
    } catch {
      // An API call failed (not the driver's answer): the claim is tried again after the backoff.
      this.backOff(run, uid, failures);
    }
  }

  private async provision(
    run: Run,
    pvc: Pvc,
    sc: StorageClass,
    user: Pod | undefined,
    failures: number,
  ): Promise<void> {
    const key = `${pvc.metadata.namespace}/${pvc.metadata.name}`;
    const volumeId = `local-${pvc.metadata.uid}`;
    const parameters = Object.fromEntries(
      Object.entries(sc.parameters ?? {}).filter(([k]) => !k.startsWith("csi.storage.k8s.io/")),
    );
    parameters["csi.storage.k8s.io/pvc/name"] = pvc.metadata.name;
    parameters["csi.storage.k8s.io/pvc/namespace"] = pvc.metadata.namespace ?? "";
    parameters["csi.storage.k8s.io/pv/name"] = volumeId;
    try {
      const result = await createVolume(
        {
          volumeId,
          parameters,
          requiredBytes: quantityBytes(pvc.spec.resources?.requests?.storage ?? "0"),
          accessModes: pvc.spec.accessModes ?? [],
          pvcAnnotations: pvc.metadata.annotations ?? {},
          schedulerName: user?.spec.schedulerName ?? "",
        },
        this.options,
      );
      await this.options.createOnNode?.(result);
      await this.api.post("/api/v1/persistentvolumes", provisionedPv(pvc, sc, result, this.identity));
      this.provisioned.add(pvc.metadata.uid);
      this.nextTry.delete(pvc.metadata.uid);
      this.attempts.push({ pvc: key, outcome: "created", message: volumeId });
      this.record(pvc, "Normal", "ProvisioningSucceeded", `Successfully provisioned volume ${volumeId}`);
    } catch (e) {
      if (!(e instanceof GrpcError)) throw e;
      const outcome = provisioningStateOf(e);
      this.attempts.push({ pvc: key, outcome, message: e.message });
      this.backOff(run, pvc.metadata.uid, failures);
      this.record(
        pvc,
        "Warning",
        "ProvisioningFailed",
        `failed to provision volume with StorageClass "${sc.metadata.name}": ${e.message}`,
      );
      if (outcome === "reschedule") {
        await this.api.patch(
          `/api/v1/namespaces/${pvc.metadata.namespace}/persistentvolumeclaims/${pvc.metadata.name}`,
          {
            metadata: { annotations: { [SELECTED_NODE]: null } },
          },
        );
      }
    }
  }

  /** Posts an Event on the claim in the background; one that fails is lost, as the recorder's may be. */
  private record(pvc: Pvc, type: string, reason: string, message: string): void {
    const posting = this.event(pvc, type, reason, message).catch(() => undefined);
    this.recording.add(posting);
    void posting.finally(() => this.recording.delete(posting));
  }

  private async event(pvc: Pvc, type: string, reason: string, message: string): Promise<void> {
    const now = new Date().toISOString();
    await this.api.post(`/api/v1/namespaces/${pvc.metadata.namespace}/events`, {
      metadata: { generateName: `${pvc.metadata.name}.`, namespace: pvc.metadata.namespace },
      involvedObject: {
        kind: "PersistentVolumeClaim",
        apiVersion: "v1",
        namespace: pvc.metadata.namespace,
        name: pvc.metadata.name,
        uid: pvc.metadata.uid,
      },
      type,
      reason,
      message,
      source: { component: `${DRIVER}_csi-provisioner` },
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    });
  }
}
