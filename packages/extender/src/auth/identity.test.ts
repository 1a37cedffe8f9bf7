import test from "ava";
import { bearerToken, certificateIdentity, type CertificateIdentity, type PeerCertificateView } from "./identity.js";

const certCases: Array<[string, PeerCertificateView, CertificateIdentity]> = [
  [
    "no certificate presented",
    { authorized: false, authorizationError: "UNABLE_TO_GET_ISSUER_CERT", subject: {} },
    { kind: "none" },
  ],
  ["no subject at all (plain socket view)", { authorized: false, subject: null }, { kind: "none" }],
  [
    "signed by the client CA: CN is the user, each O a group",
    { authorized: true, subject: { CN: "system:kube-scheduler", O: ["ops", "schedulers"] } },
    { kind: "identity", identity: { user: "system:kube-scheduler", groups: ["ops", "schedulers"], via: "x509" } },
  ],
  [
    "a single O",
    { authorized: true, subject: { CN: "csi", O: "storage" } },
    { kind: "identity", identity: { user: "csi", groups: ["storage"], via: "x509" } },
  ],
  [
    "signed by someone else",
    {
      authorized: false,
      authorizationError: "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
      subject: { CN: "system:kube-scheduler" },
    },
    { kind: "invalid", reason: "client certificate not accepted: UNABLE_TO_VERIFY_LEAF_SIGNATURE" },
  ],
  [
    "no common name",
    { authorized: true, subject: { O: "ops" } },
    { kind: "invalid", reason: "client certificate has no common name (the user)" },
  ],
];
for (const [name, peer, want] of certCases) {
  test(`certificate: ${name}`, (t) => t.deepEqual(certificateIdentity(peer), want));
}

const tokenCases: Array<[string | undefined, string | undefined]> = [
  [undefined, undefined],
  ["", undefined],
  ["Bearer abc.def", "abc.def"],
  ["bearer  abc ", "abc"],
  ["Basic dXNlcjpwdw==", undefined],
  ["Bearer a b", undefined],
];
for (const [header, want] of tokenCases) {
  test(`bearer token of ${JSON.stringify(header)}`, (t) => t.is(bearerToken(header), want));
}
