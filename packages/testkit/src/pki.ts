import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** Paths of a PEM certificate and its key. */
export interface Issued {
  cert: string;
  key: string;
}

/** A throw-away certificate authority (openssl) for TLS and client-certificate tests. */
export interface TestCa extends Issued {
  dir: string;
  /** A serving certificate for these DNS names / IP addresses. */
  server(name: string, hosts: string[]): Promise<Issued>;
  /** A client certificate: `cn` is the user, each of `groups` an organization. */
  client(name: string, cn: string, groups?: string[]): Promise<Issued>;
  remove(): Promise<void>;
}

const subject = (cn: string, groups: string[] = []) => `/CN=${cn}${groups.map((g) => `/O=${g}`).join("")}`;

/** Whether openssl can be run here (the tests that need it skip, or fail in CI, without it). */
export async function hasOpenssl(): Promise<boolean> {
  return run("openssl", ["version"]).then(
    () => true,
    () => false,
  );
}

/** A new CA in a temp dir (P-256 keys, valid one day). `name` keeps several CAs apart in logs. */
export async function makeTestCa(name = "nls-test-ca", dir?: string): Promise<TestCa> {
  const home = dir ?? (await mkdtemp(join(tmpdir(), "nls-pki-")));
  const path = (file: string) => join(home, file);
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  const ca: Issued = { cert: path(`${name}.crt`), key: path(`${name}.key`) };
  await run("openssl", [
    "req",
    "-x509",
    ...ec,
    "-days",
    "1",
    "-subj",
    subject(name),
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign",
    "-keyout",
    ca.key,
    "-out",
    ca.cert,
  ]);
  let serial = 0;
  const issue = async (file: string, subj: string, extensions: string): Promise<Issued> => {
    const out: Issued = { cert: path(`${file}.crt`), key: path(`${file}.key`) };
    const csr = path(`${file}.csr`);
    const ext = path(`${file}.ext`);
    await writeFile(ext, extensions);
    await run("openssl", ["req", ...ec, "-subj", subj, "-keyout", out.key, "-out", csr]);
    await run("openssl", [
      "x509",
      "-req",
      "-in",
      csr,
      "-CA",
      ca.cert,
      "-CAkey",
      ca.key,
      "-set_serial",
      String(++serial + Date.now()),
      "-days",
      "1",
      "-extfile",
      ext,
      "-out",
      out.cert,
    ]);
    return out;
  };
  return {
    ...ca,
    dir: home,
    server: (file, hosts) =>
      issue(
        file,
        subject(hosts[0] ?? file),
        `subjectAltName=${hosts.map((h) => (/^[\d.]+$|:/.test(h) ? `IP:${h}` : `DNS:${h}`)).join(",")}\nextendedKeyUsage=serverAuth\n`,
      ),
    client: (file, cn, groups) => issue(file, subject(cn, groups), "extendedKeyUsage=clientAuth\n"),
    remove: () => (dir ? Promise.resolve() : rm(home, { recursive: true, force: true })),
  };
}
