import test from "ava";
import { buildProgram } from "./program.js";
import type { ExtenderConfig } from "./flags.js";

/** Parses argv/env as the binary would, capturing the config instead of starting the server. */
async function parse(argv: string[], env: Record<string, string> = {}): Promise<ExtenderConfig | string> {
  const saved = { ...process.env };
  for (const k of Object.keys(process.env))
    if (k.startsWith("NLS_") || ["POD_NAMESPACE", "POD_IP", "POD_NAME", "NODE_NAME"].includes(k)) delete process.env[k];
  Object.assign(process.env, env);
  let config: ExtenderConfig | undefined;
  let error = "";
  const cmd = buildProgram(async (c) => {
    config = c;
    return 0;
  })
    .exitOverride()
    .configureOutput({ writeErr: (s) => (error += s), writeOut: () => {} });
  try {
    await cmd.parseAsync(["node", "nls-extender", ...argv]);
  } catch {
    // exitOverride throws after writing the error.
  } finally {
    process.env = saved;
  }
  return config ?? error;
}

test("defaults", async (t) => {
  t.deepEqual(await parse([]), {
    port: 23000,
    kubeconfig: undefined,
    strategy: "binpack",
    placement: "decide",
    reservationTtlMs: 60_000,
    maxBodyBytes: 64 * 1024 * 1024,
    tlsCertFile: undefined,
    tlsPrivateKeyFile: undefined,
    clientCaFile: undefined,
    authenticationTokenWebhook: false,
    authorizationMode: "AlwaysAllow",
    reservePort: undefined,
    webhookPort: undefined,
    webhookCertificate: "secret",
    webhookSecret: "nls-extender-webhook-tls",
    webhookConfiguration: "nls-local-storage-request",
    webhookService: "nls-extender-webhook",
    webhookCaLifetime: 365 * 24 * 3_600_000,
    webhookCertificateLifetime: 90 * 24 * 3_600_000,
    webhookTlsCertFile: undefined,
    webhookTlsPrivateKeyFile: undefined,
    debugAddress: { host: "127.0.0.1", port: 23001 },
    leaseNamespace: "nls-node-lease",
    agentLease: "required",
    shutdownDelayMs: 5_000,
    podIp: undefined,
    podName: undefined,
    nodeName: undefined,
    leaderElection: {
      enabled: false,
      endpointSlices: [],
      namespace: "kube-system",
      name: "nls-extender",
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
    },
    logLevel: "info",
  });
});

test("flags and env", async (t) => {
  const c = (await parse(["--strategy", "spread", "--reservation-ttl", "2m", "--max-body-bytes", "1Mi"], {
    NLS_PORT: "8443",
    NLS_AGENT_LEASE: "optional",
    NLS_PLACEMENT: "score",
    POD_NAMESPACE: "storage",
  })) as ExtenderConfig;
  t.is(c.placement, "score");
  t.is(c.port, 8443);
  t.is(c.strategy, "spread");
  t.is(c.reservationTtlMs, 120_000);
  t.is(c.maxBodyBytes, 1024 * 1024);
  t.is(c.agentLease, "optional");
  // The agents' namespace is not the extender's own.
  t.is(c.leaseNamespace, "nls-node-lease");
  t.is(((await parse(["--lease-namespace", "x"], { POD_NAMESPACE: "storage" })) as ExtenderConfig).leaseNamespace, "x");
  t.is(((await parse([], { NLS_LEASE_NAMESPACE: "y" })) as ExtenderConfig).leaseNamespace, "y");
});

test("leader election flags, named as kube-scheduler names them", async (t) => {
  const c = (await parse(
    [
      "--leader-elect",
      "--leader-elect-lease-duration",
      "30s",
      "--leader-elect-resource-name",
      "x",
      "--shutdown-delay",
      "0",
    ],
    { POD_NAMESPACE: "storage", NLS_LEADER_ELECT_RETRY_PERIOD: "1s" },
  )) as ExtenderConfig;
  t.deepEqual(c.leaderElection, {
    enabled: true,
    endpointSlices: [],
    namespace: "storage",
    name: "x",
    leaseDurationMs: 30_000,
    renewDeadlineMs: 10_000,
    retryPeriodMs: 1_000,
  });
  t.is(c.shutdownDelayMs, 0);
  t.regex(
    (await parse(["--leader-elect", "--leader-elect-renew-deadline", "20s"])) as string,
    /lease-duration must be greater than --leader-elect-renew-deadline/,
  );
  // Timing is only checked when the election runs.
  t.is(((await parse(["--leader-elect-renew-deadline", "20s"])) as ExtenderConfig).leaderElection.enabled, false);
});

test("the leader's EndpointSlices: a list of names, with the pod's address from the downward API", async (t) => {
  const c = (await parse(
    ["--leader-elect", "--leader-endpoint-slices", "nls-extender, open-local-scheduler-extender"],
    {
      POD_IP: "10.244.0.7",
      POD_NAME: "nls-extender-0",
      NODE_NAME: "node-a",
    },
  )) as ExtenderConfig;
  t.deepEqual(c.leaderElection.endpointSlices, ["nls-extender", "open-local-scheduler-extender"]);
  t.like(c, { podIp: "10.244.0.7", podName: "nls-extender-0", nodeName: "node-a" });
  t.deepEqual(
    ((await parse(["--leader-elect"], { NLS_LEADER_ENDPOINT_SLICES: "a,a", POD_IP: "10.0.0.1" })) as ExtenderConfig)
      .leaderElection.endpointSlices,
    ["a"],
  );
  t.regex(
    (await parse(["--leader-elect", "--leader-endpoint-slices=x"])) as string,
    /--leader-endpoint-slices needs this replica's address: --pod-ip or POD_IP/,
  );
  t.regex(
    (await parse(["--leader-endpoint-slices=x", "--pod-ip=10.0.0.1"])) as string,
    /--leader-endpoint-slices needs --leader-elect/,
  );
  t.regex(
    (await parse(["--leader-elect", "--pod-ip=10.0.0.1", "--leader-endpoint-slices=Bad_Name"])) as string,
    /invalid name "Bad_Name"/,
  );
});

test("authentication flags", async (t) => {
  const c = (await parse(
    [
      "--tls-cert-file=/tls/tls.crt",
      "--tls-private-key-file=/tls/tls.key",
      "--client-ca-file=/tls/ca.crt",
      "--authorization-mode=Webhook",
      "--reserve-port=23002",
    ],
    { NLS_AUTHENTICATION_TOKEN_WEBHOOK: "true", NLS_DEBUG_ADDRESS: ":9000" },
  )) as ExtenderConfig;
  t.like(c, {
    clientCaFile: "/tls/ca.crt",
    authenticationTokenWebhook: true,
    authorizationMode: "Webhook",
    reservePort: 23002,
    debugAddress: { host: undefined, port: 9000 },
  });
  // Tokens alone are enough for Webhook, even over plain HTTP.
  t.like(await parse(["--authorization-mode=Webhook", "--authentication-token-webhook=true"]), {
    authorizationMode: "Webhook",
  });
});

test("the webhook port alone: its certificate kept in a Secret; certificate files need --webhook-certificate=files", async (t) => {
  t.like(await parse(["--webhook-port=23443", "--webhook-ca-lifetime=3m", "--webhook-certificate-lifetime=1m"]), {
    webhookPort: 23443,
    webhookCertificate: "secret",
    webhookCaLifetime: 180_000,
    webhookCertificateLifetime: 60_000,
  });
  t.regex(
    (await parse([
      "--webhook-port=23443",
      "--webhook-tls-cert-file=/c",
      "--webhook-tls-private-key-file=/k",
    ])) as string,
    /need --webhook-certificate=files/,
  );
  t.regex(
    (await parse(["--webhook-certificate-lifetime=2h", "--webhook-ca-lifetime=1h"])) as string,
    /--webhook-certificate-lifetime may not exceed --webhook-ca-lifetime/,
  );
  t.regex((await parse(["--webhook-certificate=vault"])) as string, /expected one of secret, files/);
});

test("--webhook-certificate=files: the webhook port with its certificate and key; any one without the others is a usage error", async (t) => {
  t.like(
    await parse([], {
      NLS_WEBHOOK_CERTIFICATE: "files",
      NLS_WEBHOOK_PORT: "23443",
      NLS_WEBHOOK_TLS_CERT_FILE: "/webhook/tls.crt",
      NLS_WEBHOOK_TLS_PRIVATE_KEY_FILE: "/webhook/tls.key",
    }),
    { webhookPort: 23443, webhookTlsCertFile: "/webhook/tls.crt", webhookTlsPrivateKeyFile: "/webhook/tls.key" },
  );
  const together = /--webhook-port, --webhook-tls-cert-file and --webhook-tls-private-key-file go together/;
  const files = "--webhook-certificate=files";
  t.regex((await parse([files, "--webhook-port=23443"])) as string, together);
  t.regex((await parse([files, "--webhook-port=23443", "--webhook-tls-cert-file=/c"])) as string, together);
  t.regex(
    (await parse([files, "--webhook-tls-cert-file=/c", "--webhook-tls-private-key-file=/k"])) as string,
    together,
  );
});

test("authentication flags that cannot work are usage errors", async (t) => {
  t.regex((await parse(["--authorization-mode=Webhook"])) as string, /Webhook needs an identity to authorize/);
  t.regex((await parse(["--client-ca-file=/ca.crt"])) as string, /--client-ca-file needs HTTPS/);
  t.regex((await parse(["--authorization-mode=RBAC"])) as string, /expected one of AlwaysAllow, Webhook/);
  t.regex((await parse(["--authentication-token-webhook=maybe"])) as string, /invalid boolean "maybe"/);
});

test("bad values are usage errors that name the flag", async (t) => {
  t.regex((await parse(["--strategy", "random"])) as string, /--strategy.*invalid strategy "random"/);
  t.regex((await parse(["--placement", "guess"])) as string, /--placement.*expected one of decide, score/);
  t.regex((await parse([], { NLS_RESERVATION_TTL: "soon" })) as string, /--reservation-ttl.*invalid duration "soon"/);
  t.regex(
    (await parse(["--tls-cert-file", "/x.pem"])) as string,
    /--tls-cert-file and --tls-private-key-file go together/,
  );
});
