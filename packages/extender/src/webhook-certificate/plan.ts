/**
 * What the webhook's certificate keeper does next, decided on plain data: the certificates of the Secret
 * (summarised by stored.ts) and the CAs the MutatingWebhookConfiguration's caBundle already trusts. No
 * clock, crypto or API here: the keeper (keeper.ts) reads, asks, and writes.
 *
 * The rules, so that the API server never meets a serving certificate it does not trust:
 * - a CA is replaced once a third of its lifetime is left: the new CA joins the bundle next to the old
 *   one, which stays until it expires (the overlap);
 * - the serving certificate moves to the new CA only once the published caBundle holds it, and is
 *   renewed once a third of its lifetime is left, or when it does not name the Service, or its CA left
 *   the bundle; it never outlives the CA that signs it;
 * - a replica serves a certificate only once the published caBundle trusts its CA (or when it serves
 *   nothing yet: an untrusted certificate fails no more than no certificate).
 */

/** One certificate, as far as the plan is concerned (times in ms since the epoch). */
export interface CertificateSummary {
  /** SHA-256 fingerprint: how certificates are compared. */
  fingerprint: string;
  notBefore: number;
  notAfter: number;
}

export interface ServingSummary extends CertificateSummary {
  /** The fingerprint of the CA of the bundle that signed it (undefined: none of them). */
  issuer: string | undefined;
  dnsNames: readonly string[];
}

/** What the Secret holds, checked: only usable parts are named. */
export interface StoredCertificates {
  /** The CAs of the bundle (`ca.crt`). */
  cas: readonly CertificateSummary[];
  /** The CA of the bundle whose private key the Secret holds (`ca.key`): the one that signs. */
  signer: string | undefined;
  /** `tls.crt` with a matching `tls.key`. */
  serving: ServingSummary | undefined;
}

export interface CertificateLifetimes {
  caMs: number;
  servingMs: number;
}

/** One year for the CA, 90 days for the serving certificate (each renewed with a third left). */
export const DEFAULT_LIFETIMES: CertificateLifetimes = { caMs: 365 * 86_400_000, servingMs: 90 * 86_400_000 };

/** The fingerprints of the CAs in the published caBundle; "absent": there is no configuration to publish to. */
export type Published = ReadonlySet<string> | "absent";

export interface CertificatePlan {
  /** Issue a CA and make it the signer (the old one stays in the bundle until it expires). */
  newCa: boolean;
  /** Issue a serving certificate, signed by the signer (the new CA when `newCa`). */
  newServing: boolean;
  /** The CAs of the bundle to keep, besides a new one. */
  keepCas: string[];
  /** Why anything changes (empty: nothing does). */
  reasons: string[];
}

/** Due once a third of the configured lifetime is left (not of the certificate's: issue.ts backdates them). */
const renewalDue = (c: CertificateSummary, lifetimeMs: number, now: number) => c.notAfter - now <= lifetimeMs / 3;
const trusts = (published: Published, fingerprint: string | undefined) =>
  fingerprint !== undefined && (published === "absent" || published.has(fingerprint));

export function planCertificates(
  stored: StoredCertificates,
  options: { now: number; dnsName: string; published: Published; lifetimes: CertificateLifetimes },
): CertificatePlan {
  const { now, dnsName, published, lifetimes } = options;
  const reasons: string[] = [];
  const signer = stored.cas.find((c) => c.fingerprint === stored.signer);
  let newCa = false;
  if (!signer) {
    newCa = true;
    reasons.push("no CA with its key");
  } else if (renewalDue(signer, lifetimes.caMs, now)) {
    newCa = true;
    reasons.push("the CA has a third of its lifetime left");
  }
  const serving = stored.serving;
  const inBundle = (fp: string | undefined) => stored.cas.some((c) => c.fingerprint === fp && c.notAfter > now);
  let servingReason: string | undefined;
  if (!serving) servingReason = "no serving certificate with its key";
  else if (!serving.dnsNames.includes(dnsName)) servingReason = `the serving certificate does not name ${dnsName}`;
  else if (!inBundle(serving.issuer)) servingReason = "the serving certificate's CA is not in the bundle";
  else if (renewalDue(serving, lifetimes.servingMs, now))
    servingReason = "the serving certificate has a third of its lifetime left";
  else if (!newCa && serving.issuer !== signer!.fingerprint && trusts(published, signer!.fingerprint)) {
    servingReason = "the published caBundle holds the new CA";
  }
  if (servingReason) reasons.push(servingReason);
  const keepCas = stored.cas.filter((c) => c.notAfter > now).map((c) => c.fingerprint);
  if (keepCas.length < stored.cas.length) reasons.push("a CA of the bundle expired");
  return { newCa, newServing: servingReason !== undefined, keepCas, reasons };
}

/** When a serving certificate signed now by `signer` should end. */
export function servingNotAfter(now: number, lifetimes: CertificateLifetimes, signer: CertificateSummary): number {
  return Math.min(now + lifetimes.servingMs, signer.notAfter);
}

/** Whether to serve `candidate` in place of `current` (the fingerprints of serving certificates). */
export function shouldServe(
  candidate: ServingSummary | undefined,
  current: string | undefined,
  published: Published,
): boolean {
  if (!candidate || candidate.fingerprint === current) return false;
  return current === undefined || trusts(published, candidate.issuer);
}

/**
 * Whether the caBundle must be rewritten with the Secret's CAs (`secretCas`, fingerprints): the bundle
 * is exactly the Secret's, so an expired CA leaves it and a new one joins it in one write.
 */
export function mustPublish(secretCas: readonly string[], published: Published): boolean {
  if (published === "absent") return false;
  return !(secretCas.length === published.size && secretCas.every((fp) => published.has(fp)));
}

/** How often to look again: often enough that a certificate is renewed well before it expires. */
export function checkIntervalMs(lifetimes: CertificateLifetimes, ceilingMs: number): number {
  return Math.max(1_000, Math.min(ceilingMs, Math.floor(lifetimes.servingMs / 12)));
}
