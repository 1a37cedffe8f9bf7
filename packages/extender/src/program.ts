import type { Command } from "commander";
import { addFlags, buildInfo, rootCommand, readFlags, versionText, usageError } from "@nls/daemon";
import { EXTENDER_FLAGS, type ExtenderConfig } from "./flags.js";
import { timingProblem } from "./leader/election.js";

/** The version of nls and the commit this build comes from (dist/build-info.json). */
export const BUILD = buildInfo(
  new URL("./build-info.json", import.meta.url),
  new URL("../package.json", import.meta.url),
);
export const VERSION = BUILD.version;

/** `nls-extender`: its flags become an `ExtenderConfig` for `run`, which returns the exit code. */
export function buildProgram(run: (config: ExtenderConfig) => Promise<number>): Command {
  const program = rootCommand(
    "nls-extender",
    "kube-scheduler extender: capacity-aware filter and score for node-local volumes (open-local compatible)",
    versionText(BUILD),
  );
  return addFlags(program, EXTENDER_FLAGS).action(async (_opts: unknown, cmd: Command) => {
    const {
      reservationTtl,
      shutdownDelay,
      leaderElect,
      leaderElectLeaseDuration,
      leaderElectRenewDeadline,
      leaderElectRetryPeriod,
      leaderElectResourceName,
      leaderElectResourceNamespace,
      leaderEndpointSlices,
      ...flags
    } = readFlags(cmd, EXTENDER_FLAGS);
    if (!!flags.tlsCertFile !== !!flags.tlsPrivateKeyFile) {
      usageError(cmd, "--tls-cert-file and --tls-private-key-file go together");
    }
    const webhookFiles = !!flags.webhookTlsCertFile || !!flags.webhookTlsPrivateKeyFile;
    if (flags.webhookCertificate === "files") {
      if ((flags.webhookPort !== undefined) !== (!!flags.webhookTlsCertFile && !!flags.webhookTlsPrivateKeyFile)) {
        usageError(cmd, "--webhook-port, --webhook-tls-cert-file and --webhook-tls-private-key-file go together");
      }
    } else if (webhookFiles) {
      usageError(cmd, "--webhook-tls-cert-file and --webhook-tls-private-key-file need --webhook-certificate=files");
    }
    if (flags.webhookCertificateLifetime > flags.webhookCaLifetime) {
      usageError(cmd, "--webhook-certificate-lifetime may not exceed --webhook-ca-lifetime");
    }
    if (flags.clientCaFile && !flags.tlsCertFile) usageError(cmd, "--client-ca-file needs HTTPS (--tls-cert-file)");
    if (flags.authorizationMode === "Webhook" && !flags.clientCaFile && !flags.authenticationTokenWebhook) {
      usageError(
        cmd,
        "--authorization-mode=Webhook needs an identity to authorize: --client-ca-file and/or --authentication-token-webhook=true",
      );
    }
    const timing = {
      leaseDurationMs: leaderElectLeaseDuration,
      renewDeadlineMs: leaderElectRenewDeadline,
      retryPeriodMs: leaderElectRetryPeriod,
    };
    const problem = leaderElect ? timingProblem(timing) : undefined;
    if (problem) usageError(cmd, problem);
    if (leaderEndpointSlices.length > 0 && !leaderElect) {
      usageError(cmd, "--leader-endpoint-slices needs --leader-elect: only a leader writes them");
    }
    if (leaderEndpointSlices.length > 0 && !flags.podIp) {
      usageError(cmd, "--leader-endpoint-slices needs this replica's address: --pod-ip or POD_IP");
    }
    // The extender's own namespace, where its leader-election Lease lives (not the agents' Lease namespace).
    const podNamespace = process.env.POD_NAMESPACE || "kube-system";
    process.exitCode = await run({
      ...flags,
      reservationTtlMs: reservationTtl,
      shutdownDelayMs: shutdownDelay,
      leaderElection: {
        enabled: !!leaderElect,
        endpointSlices: leaderEndpointSlices,
        namespace: leaderElectResourceNamespace || podNamespace,
        name: leaderElectResourceName,
        ...timing,
      },
    });
  });
}
