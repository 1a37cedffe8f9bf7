import test from "ava";
import {
  checkIntervalMs,
  mustPublish,
  planCertificates,
  servingNotAfter,
  shouldServe,
  type CertificateSummary,
  type Published,
  type ServingSummary,
  type StoredCertificates,
} from "./plan.js";

const DAY = 86_400_000;
const NOW = 1_000 * DAY;
const NAME = "nls-extender-webhook.kube-system.svc";

const ca = (fingerprint: string, fromDay: number, toDay: number): CertificateSummary => ({
  fingerprint,
  notBefore: NOW + fromDay * DAY,
  notAfter: NOW + toDay * DAY,
});
const serving = (issuer: string | undefined, fromDay: number, toDay: number, dnsNames = [NAME]): ServingSummary => ({
  ...ca(`serving-of-${issuer}`, fromDay, toDay),
  issuer,
  dnsNames,
});
/** A CA issued 100 days ago for a year, and a 90-day serving certificate from it issued 10 days ago. */
const healthy: StoredCertificates = { cas: [ca("A", -100, 265)], signer: "A", serving: serving("A", -10, 80) };
const published = (...fps: string[]): Published => new Set(fps);

const planCases: Array<{
  name: string;
  stored: StoredCertificates;
  published?: Published;
  expect: { newCa: boolean; newServing: boolean; keepCas: string[] };
}> = [
  {
    name: "empty Secret (first install): a CA and a serving certificate",
    stored: { cas: [], signer: undefined, serving: undefined },
    published: published(),
    expect: { newCa: true, newServing: true, keepCas: [] },
  },
  {
    name: "healthy: nothing",
    stored: healthy,
    published: published("A"),
    expect: { newCa: false, newServing: false, keepCas: ["A"] },
  },
  {
    name: "healthy, configuration not yet trusting: nothing to issue (publishing is mustPublish's)",
    stored: healthy,
    published: published(),
    expect: { newCa: false, newServing: false, keepCas: ["A"] },
  },
  {
    name: "serving certificate with a third of its life left: renewed by the same CA",
    stored: { ...healthy, serving: serving("A", -61, 29) },
    expect: { newCa: false, newServing: true, keepCas: ["A"] },
  },
  {
    name: "serving certificate one day past two thirds: kept",
    stored: { ...healthy, serving: serving("A", -59, 31) },
    expect: { newCa: false, newServing: false, keepCas: ["A"] },
  },
  {
    name: "serving certificate for another namespace's Service: reissued",
    stored: { ...healthy, serving: serving("A", -10, 80, ["nls-extender-webhook.other.svc"]) },
    expect: { newCa: false, newServing: true, keepCas: ["A"] },
  },
  {
    name: "serving certificate signed by no CA of the bundle: reissued",
    stored: { ...healthy, serving: serving(undefined, -10, 80) },
    expect: { newCa: false, newServing: true, keepCas: ["A"] },
  },
  {
    name: "CA with a third of its life left: a new CA; the serving certificate stays until the new CA is published",
    stored: { cas: [ca("A", -250, 115)], signer: "A", serving: serving("A", -10, 80) },
    published: published("A"),
    expect: { newCa: true, newServing: false, keepCas: ["A"] },
  },
  {
    name: "new CA signs, not yet published: the serving certificate stays on the old CA",
    stored: { cas: [ca("B", -1, 364), ca("A", -251, 114)], signer: "B", serving: serving("A", -11, 79) },
    published: published("A"),
    expect: { newCa: false, newServing: false, keepCas: ["B", "A"] },
  },
  {
    name: "new CA published: the serving certificate moves to it; the old CA stays (overlap)",
    stored: { cas: [ca("B", -1, 364), ca("A", -251, 114)], signer: "B", serving: serving("A", -11, 79) },
    published: published("A", "B"),
    expect: { newCa: false, newServing: true, keepCas: ["B", "A"] },
  },
  {
    name: "no configuration to publish to: the serving certificate moves at once",
    stored: { cas: [ca("B", -1, 364), ca("A", -251, 114)], signer: "B", serving: serving("A", -11, 79) },
    published: "absent",
    expect: { newCa: false, newServing: true, keepCas: ["B", "A"] },
  },
  {
    name: "the old CA expired: it leaves the bundle",
    stored: { cas: [ca("B", -120, 245), ca("A", -370, -5)], signer: "B", serving: serving("B", -30, 60) },
    published: published("A", "B"),
    expect: { newCa: false, newServing: false, keepCas: ["B"] },
  },
  {
    name: "CA key lost (ca.key unusable): a new CA; the valid old CA and its serving certificate stay",
    stored: { cas: [ca("A", -100, 265)], signer: undefined, serving: serving("A", -10, 80) },
    published: published("A"),
    expect: { newCa: true, newServing: false, keepCas: ["A"] },
  },
  {
    name: "CA expired together with its serving certificate: everything new",
    stored: { cas: [ca("A", -400, -35)], signer: "A", serving: serving("A", -125, -35) },
    published: published("A"),
    expect: { newCa: true, newServing: true, keepCas: [] },
  },
];

for (const c of planCases) {
  test(`plan: ${c.name}`, (t) => {
    const plan = planCertificates(c.stored, {
      now: NOW,
      dnsName: NAME,
      published: c.published ?? "absent",
      lifetimes: { caMs: 365 * DAY, servingMs: 90 * DAY },
    });
    t.deepEqual({ newCa: plan.newCa, newServing: plan.newServing, keepCas: plan.keepCas }, c.expect);
    t.is(
      plan.reasons.length > 0,
      c.expect.newCa || c.expect.newServing || c.expect.keepCas.length < c.stored.cas.length,
    );
  });
}

test("servingNotAfter: the lifetime, but never past the signing CA", (t) => {
  const lifetimes = { caMs: 365 * DAY, servingMs: 90 * DAY };
  t.is(servingNotAfter(NOW, lifetimes, ca("A", -10, 355)), NOW + 90 * DAY);
  t.is(servingNotAfter(NOW, lifetimes, ca("A", -300, 65)), NOW + 65 * DAY);
});

const serveCases: Array<[string, ServingSummary | undefined, string | undefined, Published, boolean]> = [
  ["nothing served yet: serve even an untrusted one", serving("B", 0, 90), undefined, published("A"), true],
  ["a new pair whose CA is published: serve", serving("B", 0, 90), "old", published("A", "B"), true],
  ["a new pair whose CA is not published yet: keep the old", serving("B", 0, 90), "old", published("A"), false],
  ["the pair already served: nothing", serving("A", 0, 90), "serving-of-A", published("A"), false],
  ["no configuration: serve", serving("B", 0, 90), "old", "absent", true],
  ["no pair: nothing", undefined, "old", "absent", false],
];
for (const [name, candidate, current, pub, expected] of serveCases) {
  test(`shouldServe: ${name}`, (t) => t.is(shouldServe(candidate, current, pub), expected));
}

const publishCases: Array<[string, string[], Published, boolean]> = [
  ["empty caBundle", ["A"], published(), true],
  ["the same CAs in another order", ["A", "B"], published("B", "A"), false],
  ["a new CA to add", ["B", "A"], published("A"), true],
  ["an expired CA to drop", ["B"], published("A", "B"), true],
  ["no configuration", ["A"], "absent", false],
];
for (const [name, secretCas, pub, expected] of publishCases) {
  test(`mustPublish: ${name}`, (t) => t.is(mustPublish(secretCas, pub), expected));
}

test("checkIntervalMs: a twelfth of the serving lifetime, between a second and the ceiling", (t) => {
  t.is(checkIntervalMs({ caMs: 365 * DAY, servingMs: 90 * DAY }, 10_000), 10_000);
  t.is(checkIntervalMs({ caMs: 180_000, servingMs: 60_000 }, 10_000), 5_000);
  t.is(checkIntervalMs({ caMs: 3_000, servingMs: 2_000 }, 10_000), 1_000);
});
