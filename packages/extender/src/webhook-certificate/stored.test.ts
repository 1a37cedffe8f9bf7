import { X509Certificate } from "node:crypto";
import test from "ava";
import { issueCa, issueServing } from "./issue.js";
import { readStored, splitPem } from "./stored.js";

const NAME = "nls-extender-webhook.kube-system.svc";
const now = Date.now();
const caA = await issueCa("ca-a", now, 3_600_000);
const caB = await issueCa("ca-b", now, 3_600_000);
const servingA = await issueServing(caA, [NAME, "other.example"], now, now + 600_000);
const fp = (pem: string) => new X509Certificate(pem).fingerprint256;

test("readStored: a complete Secret", (t) => {
  const m = readStored({
    "ca.crt": `${caB.certPem}\n${caA.certPem}`,
    "ca.key": caA.keyPem,
    "tls.crt": servingA.certPem,
    "tls.key": servingA.keyPem,
  });
  t.deepEqual(m.problems, []);
  t.deepEqual([...m.caPems.keys()], [fp(caB.certPem), fp(caA.certPem)]);
  t.is(m.stored.signer, fp(caA.certPem));
  t.is(m.stored.serving?.issuer, fp(caA.certPem));
  t.deepEqual(m.stored.serving?.dnsNames, [NAME, "other.example"]);
  t.is(m.serving?.keyPem, servingA.keyPem);
});

const broken: Array<
  [string, Record<string, string>, { signer: boolean; serving: boolean; issuer: boolean; problem?: RegExp }]
> = [
  ["empty (as shipped)", {}, { signer: false, serving: false, issuer: false }],
  [
    "ca.key of a CA not in ca.crt",
    { "ca.crt": caA.certPem, "ca.key": caB.keyPem },
    { signer: false, serving: false, issuer: false, problem: /ca\.key belongs to no CA/ },
  ],
  [
    "tls.key of another pair",
    { "ca.crt": caA.certPem, "ca.key": caA.keyPem, "tls.crt": servingA.certPem, "tls.key": caB.keyPem },
    { signer: true, serving: false, issuer: false, problem: /tls\.key does not belong/ },
  ],
  [
    "serving certificate whose CA left the bundle",
    { "ca.crt": caB.certPem, "ca.key": caB.keyPem, "tls.crt": servingA.certPem, "tls.key": servingA.keyPem },
    { signer: true, serving: true, issuer: false },
  ],
  [
    "garbage key",
    { "ca.crt": caA.certPem, "ca.key": "not a key", "tls.crt": servingA.certPem, "tls.key": servingA.keyPem },
    { signer: false, serving: true, issuer: true, problem: /ca\.key/ },
  ],
];
for (const [name, data, expect] of broken) {
  test(`readStored: ${name}`, (t) => {
    const m = readStored(data);
    t.is(m.stored.signer !== undefined, expect.signer);
    t.is(m.caKeyPem !== undefined, expect.signer);
    t.is(m.stored.serving !== undefined, expect.serving);
    t.is(m.stored.serving?.issuer !== undefined, expect.issuer);
    if (expect.problem) t.regex(m.problems.join("; "), expect.problem);
    else t.deepEqual(m.problems, []);
  });
}

test("splitPem: the certificates of a bundle, text between them ignored", (t) => {
  t.deepEqual(splitPem(`# a comment\n${caA.certPem}\n\n${caB.certPem}trailing`).map(fp), [
    fp(caA.certPem),
    fp(caB.certPem),
  ]);
  t.deepEqual(splitPem(""), []);
});
