import { createPrivateKey, X509Certificate, type KeyObject } from "node:crypto";
import type { CertificateSummary, ServingSummary, StoredCertificates } from "./plan.js";

/**
 * The webhook's certificates as the Secret holds them, read into what the plan needs. Keys of the
 * Secret: `tls.crt` and `tls.key` (the serving pair, as in a `kubernetes.io/tls` Secret), `ca.crt` (the
 * bundle: every CA still trusted, PEMs one after another) and `ca.key` (the key of the CA that signs).
 * A part that does not parse, or a key that belongs to no certificate, counts as absent (and is said in
 * `problems`): the keeper then issues it again rather than serve or sign with it.
 */

export const SECRET_KEYS = { cert: "tls.crt", key: "tls.key", caBundle: "ca.crt", caKey: "ca.key" } as const;

/** The Secret's data, decoded to text (a missing key is undefined). */
export type SecretText = Partial<Record<(typeof SECRET_KEYS)[keyof typeof SECRET_KEYS], string>>;

export interface StoredMaterial {
  stored: StoredCertificates;
  /** Each CA of the bundle, by fingerprint, in the Secret's order. */
  caPems: Map<string, string>;
  caKeyPem: string | undefined;
  serving: { certPem: string; keyPem: string } | undefined;
  problems: string[];
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** The certificates of a PEM bundle, in order (text between them is ignored). */
export const splitPem = (bundle: string): string[] => bundle.match(PEM_CERTIFICATE) ?? [];

export function summarize(cert: X509Certificate): CertificateSummary {
  return {
    fingerprint: cert.fingerprint256,
    notBefore: Date.parse(cert.validFrom),
    notAfter: Date.parse(cert.validTo),
  };
}

/** The DNS names of a certificate's subjectAltName. */
export const dnsNames = (cert: X509Certificate): string[] =>
  (cert.subjectAltName ?? "")
    .split(/,\s*/)
    .filter((n) => n.startsWith("DNS:"))
    .map((n) => n.slice(4));

export function readStored(data: SecretText): StoredMaterial {
  const problems: string[] = [];
  const cas = new Map<string, X509Certificate>();
  const caPems = new Map<string, string>();
  for (const pem of splitPem(data["ca.crt"] ?? "")) {
    const cert = parse(pem, "ca.crt", problems);
    if (cert && !cas.has(cert.fingerprint256)) {
      cas.set(cert.fingerprint256, cert);
      caPems.set(cert.fingerprint256, pem);
    }
  }
  const caKey = key(data["ca.key"], "ca.key", problems);
  const signer = caKey ? [...cas.values()].find((c) => c.ca && c.checkPrivateKey(caKey)) : undefined;
  if (caKey && !signer) problems.push("ca.key belongs to no CA of ca.crt");
  let serving: ServingSummary | undefined;
  const servingPem = data["tls.crt"] ? splitPem(data["tls.crt"])[0] : undefined;
  const servingCert = servingPem ? parse(servingPem, "tls.crt", problems) : undefined;
  const servingKey = key(data["tls.key"], "tls.key", problems);
  if (servingCert && servingKey) {
    if (servingCert.checkPrivateKey(servingKey)) {
      const issuer = [...cas.values()].find((c) => servingCert.checkIssued(c) && servingCert.verify(c.publicKey));
      serving = { ...summarize(servingCert), issuer: issuer?.fingerprint256, dnsNames: dnsNames(servingCert) };
    } else problems.push("tls.key does not belong to tls.crt");
  }
  return {
    stored: { cas: [...cas.values()].map(summarize), signer: signer?.fingerprint256, serving },
    caPems,
    caKeyPem: signer ? data["ca.key"] : undefined,
    serving: serving ? { certPem: servingPem!, keyPem: data["tls.key"]! } : undefined,
    problems,
  };
}

function parse(pem: string, where: string, problems: string[]): X509Certificate | undefined {
  try {
    return new X509Certificate(pem);
  } catch (err) {
    problems.push(`${where}: ${(err as Error).message}`);
    return undefined;
  }
}

function key(pem: string | undefined, where: string, problems: string[]): KeyObject | undefined {
  if (!pem) return undefined;
  try {
    return createPrivateKey(pem);
  } catch (err) {
    problems.push(`${where}: ${(err as Error).message}`);
    return undefined;
  }
}
