import { API_VERSION, NLS_KIND, nodeSpecFromInitConfig, type NodeLocalStorage } from "@nls/api";
import type { Logger } from "@nls/daemon";
import { isConflict, isNotFound, type AgentKubeClient, type NodeRef } from "../kube/client.js";
import type { AgentMetrics } from "../metrics.js";
import type { EventRecorder } from "./event-recorder.js";

/** The Event subject of what concerns the NodeLocalStorage as a whole (its init config). */
export const CONFIG_SUBJECT = "config";

export interface NlsCreatorDeps {
  kube: Pick<AgentKubeClient, "getNls" | "createNls" | "getInitConfig">;
  /** The agent's Node (read once, shared with the Lease). */
  node: () => Promise<NodeRef>;
  events: EventRecorder;
  metrics: AgentMetrics;
  log: Logger;
}

/**
 * Makes sure the node's NodeLocalStorage exists. A missing one is created from the init config (the
 * last `nodesConfig` matching the node's labels, else the global config; an empty spec and a Warning
 * Event when the init config is missing), owned by the Node. Someone else creating it first wins.
 * After creation the spec is the user's: nothing here ever writes it again.
 */
export class NlsCreator {
  constructor(
    private readonly deps: NlsCreatorDeps,
    private readonly nodeName: string,
    /** The NodeLocalStorageInitConfig a missing NLS is created from. */
    private readonly initConfigName: string,
  ) {}

  async ensure(): Promise<{ nls: NodeLocalStorage; created: boolean }> {
    const { kube, metrics, log } = this.deps;
    const name = this.nodeName;
    const existing = await kube.getNls(name);
    if (existing) return { nls: existing, created: false };

    const node = await this.deps.node().catch((err: unknown) => {
      if (isNotFound(err)) throw new Error(`Node "${name}" does not exist: is --node-name right?`, { cause: err });
      throw err;
    });
    const initConfig = await kube.getInitConfig(this.initConfigName);
    if (!initConfig) {
      log.warn(
        { initConfig: this.initConfigName },
        "NodeLocalStorageInitConfig not found; creating the NodeLocalStorage with an empty spec",
      );
    }
    const body: NodeLocalStorage = {
      apiVersion: API_VERSION,
      kind: NLS_KIND,
      metadata: {
        name,
        // The Node owns its NLS, so deleting the Node garbage-collects it.
        ownerReferences: [{ apiVersion: "v1", kind: "Node", name: node.name, uid: node.uid }],
      },
      spec: nodeSpecFromInitConfig(initConfig?.spec, name, node.labels),
    };
    try {
      const created = await kube.createNls(body);
      metrics.countWrite("nls_create", "ok");
      log.info({ initConfig: this.initConfigName, found: !!initConfig }, "created the NodeLocalStorage");
      if (!initConfig) {
        await this.deps.events.record(created, CONFIG_SUBJECT, {
          type: "Warning",
          reason: "InitConfigNotFound",
          action: "CreateNodeLocalStorage",
          message: `NodeLocalStorageInitConfig "${this.initConfigName}" not found: created with an empty spec (nothing selected, nothing initialised)`,
        });
      }
      return { nls: created, created: true };
    } catch (err) {
      if (!isConflict(err)) {
        metrics.countWrite("nls_create", "error");
        throw err;
      }
      // Someone (open-local's controller, a user) created it first: theirs wins.
      metrics.countWrite("nls_create", "conflict");
      const now = await kube.getNls(name);
      if (!now) throw new Error(`NodeLocalStorage "${name}" exists and vanished again`, { cause: err });
      return { nls: now, created: false };
    }
  }
}
