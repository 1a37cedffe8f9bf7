import { X509Certificate } from "node:crypto";
import { copyFileSync, readFileSync, writeFileSync } from "node:fs";
import { connect } from "node:tls";
import test, { type Implementation } from "ava";
import express from "express";
import { hasOpenssl, makeTestCa, type TestCa } from "@nls/testkit";
import { createLogger } from "@nls/daemon";
import { listen } from "../server.js";
import { readTls, TlsReloader, type TlsPaths } from "./reloading-tls.js";

const ready = await hasOpenssl();
const gated = (name: string, fn: Implementation<[]>) =>
  ready || process.env.NLS_REQUIRE_REAL_TOOLS === "1" ? test.serial(name, fn) : test.skip(`${name} (no openssl)`, fn);

/** The serial number of the certificate a fresh TLS connection to `port` is served. */
function servedSerial(port: number, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port, servername: "localhost", ca: readFileSync(ca) }, () => {
      resolve(socket.getPeerCertificate().serialNumber);
      socket.end();
    });
    socket.on("error", reject);
  });
}

const serialOf = (pem: string) => new X509Certificate(readFileSync(pem)).serialNumber;

let ca: TestCa;
test.before(async () => {
  if (ready) ca = await makeTestCa("reload-ca");
});
test.after.always(async () => ca?.remove());

gated("a renewed certificate in the files is served to new connections after check()", async (t) => {
  const first = await ca.server("first", ["localhost"]);
  const second = await ca.server("second", ["localhost"]);
  // The paths a Secret volume would keep stable.
  const paths: TlsPaths = { certFile: `${ca.dir}/tls.crt`, keyFile: `${ca.dir}/tls.key` };
  copyFileSync(first.cert, paths.certFile);
  copyFileSync(first.key, paths.keyFile);
  const material = readTls(paths);
  const server = await listen(express(), 0, "127.0.0.1", material);
  t.teardown(() => server.close());
  const reloader = new TlsReloader(paths, material, (m) => server.setTls(m), createLogger("nls-extender", "silent"));
  t.is(await servedSerial(server.port, ca.cert), serialOf(first.cert));
  t.is(reloader.check(), "unchanged");

  // Half-way through a renewal: the new certificate with the old key does not load; the old pair stays.
  copyFileSync(second.cert, paths.certFile);
  t.is(reloader.check(), "invalid");
  t.is(await servedSerial(server.port, ca.cert), serialOf(first.cert));

  copyFileSync(second.key, paths.keyFile);
  t.is(reloader.check(), "reloaded");
  t.is(await servedSerial(server.port, ca.cert), serialOf(second.cert));
  t.is(reloader.check(), "unchanged");
});

gated("readTls names what does not load", (t) => {
  const paths: TlsPaths = { certFile: `${ca.dir}/garbage.crt`, keyFile: `${ca.dir}/garbage.key` };
  writeFileSync(paths.certFile, "not a certificate");
  writeFileSync(paths.keyFile, "not a key");
  t.throws(() => readTls(paths));
  t.throws(() => readTls({ certFile: `${ca.dir}/missing.crt`, keyFile: paths.keyFile }), { message: /ENOENT/ });
});
