import test from "ava";
import { parseListenAddress } from "./listen-address.js";

const addrCases: { addr: string; want?: { host: string | undefined; port: number }; error?: boolean }[] = [
  { addr: ":9101", want: { host: undefined, port: 9101 } },
  { addr: "0.0.0.0:9101", want: { host: "0.0.0.0", port: 9101 } },
  { addr: "127.0.0.1:0", want: { host: "127.0.0.1", port: 0 } },
  { addr: "[::1]:9101", want: { host: "::1", port: 9101 } },
  { addr: "localhost:80", want: { host: "localhost", port: 80 } },
  { addr: "9101", error: true },
  { addr: ":", error: true },
  { addr: ":99999", error: true },
  { addr: "::1:9101", error: true },
  { addr: "host:port", error: true },
];

for (const c of addrCases) {
  test(`parseListenAddress(${JSON.stringify(c.addr)})`, (t) => {
    if (c.error) t.throws(() => parseListenAddress(c.addr), { message: /invalid listen address/ });
    else t.deepEqual(parseListenAddress(c.addr), c.want!);
  });
}
