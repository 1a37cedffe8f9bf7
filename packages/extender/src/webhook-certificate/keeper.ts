import { X509Certificate } from "node:crypto";
import type { Logger } from "@nls/daemon";
import type { TlsMaterial } from "../tls/reloading-tls.js";
import { issueCa, issueServing, type IssuedPem } from "./issue.js";
import {
  mustPublish,
  planCertificates,
  servingNotAfter,
  shouldServe,
  type CertificateLifetimes,
  type CertificatePlan,
  type Published,
} from "./plan.js";
import { readStored, splitPem, summarize, type SecretText, type StoredMaterial } from "./stored.js";

/** The Secret that holds the certificates, read and replaced by name; a stale write rejects (409). */
export interface SecretStore {
  ref: string;
  read(): Promise<{ data: SecretText; resourceVersion: string }>;
  write(data: SecretText, resourceVersion: string): Promise<{ data: SecretText; resourceVersion: string }>;
}

/** The MutatingWebhookConfiguration whose webhooks trust the CA bundle. */
export interface BundleStore {
  ref: string;
  /** Each webhook's caBundle (PEM text; "" when unset); undefined when the configuration does not exist. */
  read(): Promise<{ bundles: string[]; resourceVersion: string } | undefined>;
  /** Sets every webhook's caBundle; rejects when the configuration changed since `resourceVersion`. */
  write(bundlePem: string, resourceVersion: string): Promise<void>;
}

export const SYNC_STEPS = ["read-configuration", "read-secret", "issue", "write-secret", "publish-ca-bundle"] as const;
export type SyncStep = (typeof SYNC_STEPS)[number];

export interface KeeperMetrics {
  failed(step: SyncStep): void;
  issued(what: "ca" | "serving"): void;
  serving(notAfterMs: number): void;
}

export interface KeeperOptions {
  secret: SecretStore;
  /** Undefined: no configuration to publish the CA to (the operator's own). */
  bundle: BundleStore | undefined;
  /** The names the serving certificate carries; the first is the Service's `<name>.<namespace>.svc`. */
  dnsNames: readonly string[];
  lifetimes: CertificateLifetimes;
  now: () => number;
  log: Logger;
  /** Takes the pair this replica serves from now on. */
  serve: (material: TlsMaterial) => void;
  metrics: KeeperMetrics;
}

export const fingerprints = (bundlePem: string): Set<string> =>
  new Set(splitPem(bundlePem).map((pem) => new X509Certificate(pem).fingerprint256));

const isConflict = (err: unknown): boolean =>
  typeof err === "object" && err !== null && (err as { code?: unknown }).code === 409;

/**
 * Keeps the webhook's serving certificate in the Secret, the Secret's CAs in the webhook's caBundle,
 * and the Secret's pair in this replica's server. Every replica runs one; `sync()` is one round:
 *
 * 1. read the configuration, then the Secret — in this order: a replica that wrote a newer Secret wrote
 *    it before it published, so a configuration read first cannot be newer than the Secret read after;
 * 2. plan (plan.ts); when something is due, issue and replace the Secret's data with the resourceVersion
 *    read — of two replicas deciding at once one wins, and the other takes the winner's Secret;
 * 3. write the Secret's CAs to the caBundle when they differ, with the configuration's resourceVersion,
 *    so a replica with an older Secret cannot undo a newer bundle;
 * 4. serve the Secret's pair once the caBundle, as read at the start of a round, trusts its CA.
 *
 * A failed step is logged and counted, and the next round starts again from the API: the pair in use is
 * kept meanwhile.
 */
export class WebhookCertificateKeeper {
  private served: string | undefined;

  constructor(private readonly o: KeeperOptions) {}

  /** The fingerprint of the serving certificate in use (undefined: none yet). */
  servedFingerprint(): string | undefined {
    return this.served;
  }

  async sync(): Promise<void> {
    const { log } = this.o;
    const configuration = await this.step("read-configuration", () => this.o.bundle?.read());
    if (configuration === failed) return;
    let published: Published = "absent";
    if (configuration) {
      const sets = configuration.bundles.map(fingerprintsOrEmpty);
      published = new Set(sets.length === 0 ? [] : [...sets[0]!].filter((fp) => sets.every((s) => s.has(fp))));
    }
    const secret = await this.step("read-secret", () => this.o.secret.read());
    if (secret === failed) return;
    let material = readStored(secret.data);
    if (material.problems.length > 0)
      log.warn(
        { secret: this.o.secret.ref, problems: material.problems },
        "webhook certificate Secret holds unusable parts",
      );
    const now = this.o.now();
    const plan = planCertificates(material.stored, {
      now,
      dnsName: this.o.dnsNames[0]!,
      published,
      lifetimes: this.o.lifetimes,
    });
    if (plan.reasons.length > 0) {
      const next = await this.step("issue", () => this.renewed(material, plan, now));
      if (next === failed) return;
      try {
        const written = await this.o.secret.write(next, secret.resourceVersion);
        material = readStored(written.data);
        if (plan.newCa) this.o.metrics.issued("ca");
        if (plan.newServing) this.o.metrics.issued("serving");
        log.info(
          { secret: this.o.secret.ref, reasons: plan.reasons, newCa: plan.newCa, newServing: plan.newServing },
          "webhook certificate written",
        );
      } catch (err) {
        if (!isConflict(err)) return this.fail("write-secret", err);
        // Another replica wrote first: take what it wrote.
        log.info({ secret: this.o.secret.ref }, "webhook certificate Secret changed meanwhile; reading the winner's");
        const winner = await this.step("read-secret", () => this.o.secret.read());
        if (winner === failed) return;
        material = readStored(winner.data);
      }
    }
    const secretCas = [...material.caPems.keys()];
    if (configuration && configuration.bundles.some((b) => mustPublish(secretCas, fingerprintsOrEmpty(b)))) {
      const bundlePem = [...material.caPems.values()].join("\n") + "\n";
      try {
        await this.o.bundle!.write(bundlePem, configuration.resourceVersion);
        // A pair of a CA published just now is served from the next round on, not at once: the API
        // server's own view of the configuration follows this write a moment later.
        log.info({ configuration: this.o.bundle!.ref, cas: secretCas.length }, "webhook caBundle written");
      } catch (err) {
        // A conflict: another replica published meanwhile; the next round reads what it wrote.
        if (isConflict(err)) log.info({ configuration: this.o.bundle!.ref }, "webhook caBundle changed meanwhile");
        else this.fail("publish-ca-bundle", err);
      }
    }
    this.serveIfTrusted(material, published);
  }

  private serveIfTrusted(material: StoredMaterial, published: Published): void {
    const serving = material.stored.serving;
    if (!material.serving || !shouldServe(serving, this.served, published)) return;
    this.o.serve({ cert: Buffer.from(material.serving.certPem), key: Buffer.from(material.serving.keyPem) });
    this.served = serving!.fingerprint;
    this.o.metrics.serving(serving!.notAfter);
    this.o.log.info({ notAfter: new Date(serving!.notAfter).toISOString() }, "webhook serving certificate loaded");
  }

  /** The Secret's data after `plan`: kept CAs (a new one first), the signer's key, the serving pair. */
  private async renewed(material: StoredMaterial, plan: CertificatePlan, now: number): Promise<SecretText> {
    const cas = new Map(plan.keepCas.map((fp) => [fp, material.caPems.get(fp)!]));
    let signer: IssuedPem | undefined =
      material.stored.signer && material.caKeyPem
        ? { certPem: material.caPems.get(material.stored.signer)!, keyPem: material.caKeyPem }
        : undefined;
    if (plan.newCa) {
      signer = await issueCa(`nls-extender-webhook-ca@${Math.floor(now / 1000)}`, now, this.o.lifetimes.caMs);
      const fp = new X509Certificate(signer.certPem).fingerprint256;
      cas.delete(fp);
      const rest = [...cas];
      cas.clear();
      cas.set(fp, signer.certPem);
      for (const [k, v] of rest) cas.set(k, v);
    }
    let serving = material.serving;
    if (plan.newServing) {
      const notAfter = servingNotAfter(now, this.o.lifetimes, summarize(new X509Certificate(signer!.certPem)));
      serving = await issueServing(signer!, this.o.dnsNames, now, notAfter);
    }
    return {
      "ca.crt": [...cas.values()].join("\n") + "\n",
      "ca.key": signer!.keyPem,
      "tls.crt": serving?.certPem ?? "",
      "tls.key": serving?.keyPem ?? "",
    };
  }

  private async step<T>(step: SyncStep, run: () => Promise<T> | T): Promise<T | typeof failed> {
    try {
      return await run();
    } catch (err) {
      this.fail(step, err);
      return failed;
    }
  }

  private fail(step: SyncStep, err: unknown): void {
    this.o.metrics.failed(step);
    this.o.log.warn({ err, step, secret: this.o.secret.ref }, "webhook certificate round failed; retrying");
  }
}

const failed = Symbol("failed");

function fingerprintsOrEmpty(bundlePem: string): Set<string> {
  try {
    return fingerprints(bundlePem);
  } catch {
    return new Set();
  }
}
