import { X509Certificate } from "node:crypto";
import test from "ava";
import { createLogger } from "@nls/daemon";
import type { TlsMaterial } from "../tls/reloading-tls.js";
import { WebhookCertificateKeeper, type BundleStore, type SecretStore, type SyncStep } from "./keeper.js";
import { splitPem, type SecretText } from "./stored.js";

const NAME = "nls-extender-webhook.kube-system.svc";
const log = createLogger("keeper-test", "error");
const conflict = () => Object.assign(new Error("Conflict"), { code: 409 });

/** A Secret in memory with the API server's optimistic concurrency. */
function memorySecret(): SecretStore & { data: SecretText; rv: number; writes: number } {
  const s = {
    ref: "kube-system/nls-extender-webhook-tls",
    data: {} as SecretText,
    rv: 1,
    writes: 0,
    async read() {
      return { data: { ...s.data }, resourceVersion: String(s.rv) };
    },
    async write(data: SecretText, resourceVersion: string) {
      if (resourceVersion !== String(s.rv)) throw conflict();
      s.data = { ...data };
      s.rv++;
      s.writes++;
      return { data: { ...s.data }, resourceVersion: String(s.rv) };
    },
  };
  return s;
}

function memoryConfiguration(webhooks = 1): BundleStore & { bundles: string[]; rv: number; failWrites: boolean } {
  const c = {
    ref: "nls-local-storage-request",
    bundles: Array.from({ length: webhooks }, () => ""),
    rv: 1,
    failWrites: false,
    async read() {
      return { bundles: [...c.bundles], resourceVersion: String(c.rv) };
    },
    async write(bundlePem: string, resourceVersion: string) {
      if (c.failWrites) throw new Error("forbidden");
      if (resourceVersion !== String(c.rv)) throw conflict();
      c.bundles = c.bundles.map(() => bundlePem);
      c.rv++;
    },
  };
  return c;
}

interface Replica {
  keeper: WebhookCertificateKeeper;
  served: TlsMaterial[];
  failures: SyncStep[];
}

function replica(
  secret: SecretStore,
  bundle: BundleStore | undefined,
  now: () => number,
  lifetimes = { caMs: 3_600_000, servingMs: 600_000 },
): Replica {
  const served: TlsMaterial[] = [];
  const failures: SyncStep[] = [];
  const keeper = new WebhookCertificateKeeper({
    secret,
    bundle,
    dnsNames: [NAME],
    lifetimes,
    now,
    log,
    serve: (m) => served.push(m),
    metrics: { failed: (s) => failures.push(s), issued: () => {}, serving: () => {} },
  });
  return { keeper, served, failures };
}

const cert = (pem: string | Buffer) => new X509Certificate(pem);
/** Whether one of the CAs of `bundle` signed `pem`. */
const trustedBy = (bundle: string, pem: Buffer | string) =>
  splitPem(bundle).some((ca) => cert(pem).checkIssued(cert(ca)) && cert(pem).verify(cert(ca).publicKey));

test("first round on the shipped, empty Secret: a CA and a serving pair written, the CA published, the pair served", async (t) => {
  const [secret, config] = [memorySecret(), memoryConfiguration(2)];
  const r = replica(secret, config, Date.now);
  await r.keeper.sync();
  t.is(secret.writes, 1);
  t.is(splitPem(secret.data["ca.crt"]!).length, 1);
  t.deepEqual(config.bundles, [secret.data["ca.crt"], secret.data["ca.crt"]], "every webhook of the configuration");
  t.is(r.served.length, 1);
  t.true(trustedBy(config.bundles[0]!, r.served[0]!.cert));
  t.is(cert(r.served[0]!.cert).subjectAltName, `DNS:${NAME}`);
  t.deepEqual(r.failures, []);
  // Nothing due: the next round reads and changes nothing.
  await r.keeper.sync();
  t.is(secret.writes, 1);
  t.is(config.rv, 2);
  t.is(r.served.length, 1);
});

test("two replicas on the empty Secret at once: one write wins, both serve the winner's pair", async (t) => {
  const [secret, config] = [memorySecret(), memoryConfiguration()];
  const [a, b] = [replica(secret, config, Date.now), replica(secret, config, Date.now)];
  await Promise.all([a.keeper.sync(), b.keeper.sync()]);
  t.is(secret.writes, 1, "the second write carried a stale resourceVersion");
  t.is(a.keeper.servedFingerprint(), b.keeper.servedFingerprint());
  t.is(a.keeper.servedFingerprint(), cert(secret.data["tls.crt"]!).fingerprint256);
  t.true(trustedBy(config.bundles[0]!, secret.data["tls.crt"]!));
  t.deepEqual([...a.failures, ...b.failures], []);
});

test("a replica that cannot publish the caBundle keeps serving its pair rather than one the API server does not trust", async (t) => {
  let now = Date.now();
  const [secret, config] = [memorySecret(), memoryConfiguration()];
  const lifetimes = { caMs: 300_000, servingMs: 60_000 };
  const r = replica(secret, config, () => now, lifetimes);
  await r.keeper.sync();
  const first = r.keeper.servedFingerprint();
  // The CA comes due (a third of its life left), but the configuration refuses the new bundle.
  config.failWrites = true;
  now += 210_000;
  await r.keeper.sync();
  t.is(splitPem(secret.data["ca.crt"]!).length, 2, "the new CA joined the Secret's bundle");
  t.deepEqual(r.failures, ["publish-ca-bundle"]);
  await r.keeper.sync();
  t.true(trustedBy(config.bundles[0]!, r.served.at(-1)!.cert), "what is served stays trusted");
  t.true(r.served.length >= 1 && r.keeper.servedFingerprint() !== undefined && first !== undefined);
  config.failWrites = false;
  await r.keeper.sync();
  await r.keeper.sync();
  t.is(splitPem(config.bundles[0]!).length, 2);
  t.true(trustedBy(config.bundles[0]!, r.served.at(-1)!.cert));
});

test("rotation over several CA lifetimes, two replicas: what either serves is always trusted by the published caBundle and unexpired, and old CAs leave", async (t) => {
  let now = Date.now();
  const [secret, config] = [memorySecret(), memoryConfiguration()];
  const lifetimes = { caMs: 300_000, servingMs: 60_000 };
  const replicas = [replica(secret, config, () => now, lifetimes), replica(secret, config, () => now, lifetimes)];
  const cas = new Set<string>();
  let mostCas = 0;
  for (let step = 0; step < 200; step++) {
    // Rounds every 5 s (checkIntervalMs: a twelfth of 60 s), each replica at its own moment.
    await replicas[step % 2]!.keeper.sync();
    now += 2_500;
    for (const r of replicas) {
      const served = r.served.at(-1);
      if (!served) continue;
      t.true(trustedBy(config.bundles[0]!, served.cert), `step ${step}: served pair trusted`);
      t.true(Date.parse(cert(served.cert).validTo) > now, `step ${step}: served pair unexpired`);
    }
    for (const ca of splitPem(config.bundles[0]!)) {
      cas.add(cert(ca).fingerprint256);
      t.true(Date.parse(cert(ca).validTo) > now - 10_000, `step ${step}: no long-expired CA in the bundle`);
    }
    mostCas = Math.max(mostCas, splitPem(config.bundles[0]!).length);
  }
  t.true(cas.size >= 3, `500 s over 300-s CAs: at least three CAs (saw ${cas.size})`);
  t.is(mostCas, 2, "an overlap of two CAs, never more");
  t.deepEqual([...replicas[0]!.failures, ...replicas[1]!.failures], []);
});

test("no MutatingWebhookConfiguration (an operator's own): the pair is kept and served, nothing published", async (t) => {
  const secret = memorySecret();
  const absent: BundleStore = { ref: "none", read: async () => undefined, write: async () => t.fail("no write") };
  const r = replica(secret, absent, Date.now);
  await r.keeper.sync();
  t.is(r.served.length, 1);
  t.is(secret.writes, 1);
});

test("an unreadable Secret: nothing served, the failure counted, the next round tries again", async (t) => {
  const secret = memorySecret();
  const failing: SecretStore = { ...secret, read: async () => Promise.reject(new Error("forbidden")) };
  const r = replica(failing, memoryConfiguration(), Date.now);
  await r.keeper.sync();
  t.deepEqual(r.failures, ["read-secret"]);
  t.is(r.served.length, 0);
});
