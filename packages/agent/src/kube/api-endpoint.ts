import { readFileSync } from "node:fs";
import { currentClusterAndUser, StartupError, type Kubeconfig } from "@nls/daemon";
import { TokenFile } from "./token-file.js";

/**
 * Where and how the agent reaches the API server: the current context of a kubeconfig (as
 * `@nls/daemon` loads it for both daemons) reduced to what `node:https` needs. Files named in it (CA,
 * client certificate and key) are read once, at start; a token file is read again as it rotates.
 */
export interface ApiEndpoint {
  /** The server's URL without a trailing slash (it may carry a path prefix). */
  server: string;
  tls: { ca?: Buffer; cert?: Buffer; key?: Buffer; rejectUnauthorized: boolean; servername?: string };
  credentials: Credentials;
  /** Sent with every request (`Impersonate-User`). */
  headers: Record<string, string>;
}

/** The `Authorization` header, if any; `refreshed` after a 401 says whether a retry may help. */
export interface Credentials {
  authorization(): Promise<string | undefined>;
  /** A new header after the server refused the last one, or `undefined` when nothing changed. */
  refreshed(refused: string | undefined): Promise<string | undefined>;
}

/**
 * The endpoint of `kc`'s current context. Authentication the agent does not implement (exec plugins,
 * auth providers other than a token file, proxies) is a `StartupError`, never silently dropped.
 */
export function apiEndpoint(kc: Kubeconfig): ApiEndpoint {
  const { cluster, user } = currentClusterAndUser(kc);
  if (!cluster?.server)
    throw new StartupError(`kubeconfig: the current context "${kc.currentContext}" names no cluster`);
  const unsupported = (what: string) =>
    new StartupError(
      `kubeconfig: ${what} is not supported by nls-agent (use a token, a token file or a client certificate)`,
    );
  if (cluster.proxyUrl) throw unsupported("proxy-url");
  if (cluster.server.startsWith("http:") && !cluster.skipTLSVerify)
    throw new StartupError(`kubeconfig: ${cluster.server} is plain HTTP but insecure-skip-tls-verify is not set`);
  if (user?.exec) throw unsupported("an exec credential plugin");
  const provider = user?.authProvider as { name?: string; config?: { tokenFile?: string } } | undefined;
  if (provider && !provider.config?.tokenFile) throw unsupported(`auth-provider ${provider.name ?? ""}`.trim());

  let credentials: Credentials = noCredentials;
  if (user?.token) credentials = staticHeader(`Bearer ${user.token}`);
  else if (provider?.config?.tokenFile) credentials = tokenFileCredentials(new TokenFile(provider.config.tokenFile));
  else if (user?.username)
    credentials = staticHeader(`Basic ${Buffer.from(`${user.username}:${user.password ?? ""}`).toString("base64")}`);

  return {
    server: cluster.server.replace(/\/$/, ""),
    tls: {
      ca: fileOrData("certificate-authority", cluster.caFile, cluster.caData),
      cert: fileOrData("client-certificate", user?.certFile, user?.certData),
      key: fileOrData("client-key", user?.keyFile, user?.keyData),
      rejectUnauthorized: !cluster.skipTLSVerify,
      ...(cluster.tlsServerName ? { servername: cluster.tlsServerName } : {}),
    },
    credentials,
    headers: user?.impersonateUser ? { "Impersonate-User": user.impersonateUser } : {},
  };
}

const noCredentials: Credentials = {
  authorization: async () => undefined,
  refreshed: async () => undefined,
};

function staticHeader(header: string): Credentials {
  return { authorization: async () => header, refreshed: async () => undefined };
}

function tokenFileCredentials(file: TokenFile): Credentials {
  return {
    authorization: async () => `Bearer ${await file.current()}`,
    refreshed: async (refused) => {
      const header = `Bearer ${await file.reread()}`;
      return header === refused ? undefined : header;
    },
  };
}

/** A kubeconfig `<what>` / `<what>-data` pair: the file's bytes, else the base64 data, else nothing. */
function fileOrData(what: string, file: string | undefined, data: string | undefined): Buffer | undefined {
  if (file) {
    try {
      return readFileSync(file);
    } catch (err) {
      throw new StartupError(`kubeconfig: cannot read ${what} ${file}: ${(err as Error).message}`);
    }
  }
  return data ? Buffer.from(data, "base64") : undefined;
}
