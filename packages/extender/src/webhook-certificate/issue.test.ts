import { X509Certificate } from "node:crypto";
import { connect } from "node:tls";
import test from "ava";
import express from "express";
import { listen } from "../server.js";
import { issueCa, issueServing } from "./issue.js";

const NAME = "nls-extender-webhook.kube-system.svc";
const now = Date.now();
const caA = await issueCa("ca-a", now, 3_600_000);
const caB = await issueCa("ca-b", now, 3_600_000);
const servingA = await issueServing(caA, [NAME, "other.example"], now, now + 600_000);

test("issued: a CA that may sign, and a serving certificate it signed, for the names asked, ending when asked", (t) => {
  const ca = new X509Certificate(caA.certPem);
  const serving = new X509Certificate(servingA.certPem);
  t.true(ca.ca);
  t.false(serving.ca);
  t.true(serving.checkIssued(ca) && serving.verify(ca.publicKey));
  t.false(serving.verify(new X509Certificate(caB.certPem).publicKey));
  t.is(serving.subjectAltName, `DNS:${NAME}, DNS:other.example`);
  t.is(Date.parse(serving.validTo), Math.floor((now + 600_000) / 1000) * 1000);
  t.true(Date.parse(serving.validFrom) < now, "backdated for clocks a little behind");
  t.not(new X509Certificate(caB.certPem).serialNumber, ca.serialNumber);
});

test("issued: a TLS client trusting the CA completes a handshake for the Service's name, one trusting another CA does not", async (t) => {
  const server = await listen(express(), 0, "127.0.0.1", {
    cert: Buffer.from(servingA.certPem),
    key: Buffer.from(servingA.keyPem),
  });
  const handshake = (ca: string) =>
    new Promise<string>((resolve) => {
      const socket = connect({ host: "127.0.0.1", port: server.port, servername: NAME, ca }, () => {
        resolve("ok");
        socket.end();
      });
      socket.on("error", (err) => resolve((err as NodeJS.ErrnoException).code ?? err.message));
    });
  t.is(await handshake(caA.certPem), "ok");
  t.not(await handshake(caB.certPem), "ok");
  await server.close();
});
