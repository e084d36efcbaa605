import http from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import {
  classifyAddress,
  OutboundPolicy,
  OutboundRefusedError,
  outboundAllowEntryProblem,
  type AddressClass,
  type Resolver,
} from "./outbound-policy";

const table: [string, AddressClass | null][] = [
  ["127.0.0.1", "loopback"],
  ["127.255.0.9", "loopback"],
  ["::1", "loopback"],
  ["::ffff:127.0.0.1", "loopback"],
  ["::ffff:7f00:1", "loopback"],
  ["::127.0.0.1", "loopback"],
  ["64:ff9b::7f00:1", "loopback"],
  ["2002:7f00:1::", "loopback"],
  ["0.0.0.0", "unspecified"],
  ["0.1.2.3", "unspecified"],
  ["::", "unspecified"],
  ["169.254.169.254", "link-local"],
  ["::ffff:169.254.169.254", "link-local"],
  ["fe80::1", "link-local"],
  ["10.0.0.1", "private"],
  ["172.16.0.1", "private"],
  ["172.31.255.255", "private"],
  ["192.168.1.1", "private"],
  ["::ffff:10.1.2.3", "private"],
  ["64:ff9b::a00:1", "private"],
  ["fc00::1", "private"],
  ["fd12:3456::1", "private"],
  ["64:ff9b:1::1", "private"],
  ["100.64.0.1", "shared (CGNAT)"],
  ["100.127.255.254", "shared (CGNAT)"],
  ["224.0.0.1", "multicast"],
  ["239.255.255.250", "multicast"],
  ["ff02::1", "multicast"],
  ["255.255.255.255", "broadcast"],
  ["192.0.2.10", "reserved"],
  ["198.18.0.1", "reserved"],
  ["240.0.0.1", "reserved"],
  ["2001:db8::1", "reserved"],
  ["not-an-address", "reserved"],
  // Public
  ["8.8.8.8", null],
  ["1.1.1.1", null],
  ["100.63.255.255", null],
  ["100.128.0.1", null],
  ["172.32.0.1", null],
  ["::ffff:8.8.8.8", null],
  ["64:ff9b::808:808", null],
  ["2606:4700:4700::1111", null],
  ["2a00:1450:4001:80b::200e", null],
];

describe("classifyAddress", () => {
  it.each(table)("%s is %s", (address, expected) => {
    expect(classifyAddress(address)).toBe(expected);
  });
});

/** A policy with a scripted DNS and no own addresses (so only the classes decide). */
function policy(names: Record<string, string[]>, allow: string[] = []) {
  const resolver: Resolver = async (host) => {
    const addresses = names[host];
    if (!addresses) throw Object.assign(new Error(`ENOTFOUND ${host}`), { code: "ENOTFOUND" });
    return addresses.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
  };
  return new OutboundPolicy({ allow, resolver, ownAddresses: () => ["203.0.113.77"] });
}

const refusal = (p: Promise<unknown>) =>
  p.then(
    () => null,
    (e: unknown) => e,
  );

describe("OutboundPolicy.checkUrl (on save)", () => {
  it.each([
    ["http://127.0.0.1/h", "loopback"],
    ["http://2130706433/h", "loopback"],
    ["http://0x7f000001/h", "loopback"],
    ["http://0177.0.0.1/h", "loopback"],
    ["http://127.1/h", "loopback"],
    ["http://[::1]:8000/h", "loopback"],
    ["http://[::ffff:127.0.0.1]/h", "loopback"],
    ["http://169.254.169.254/latest/meta-data", "link-local"],
    ["http://0/h", "unspecified"],
    ["https://10.0.0.5/h", "private"],
    ["https://internal.test/h", "private"],
    ["https://mixed.test/h", "loopback"],
    ["https://LOCALHOST./h", "loopback"],
  ])("refuses %s (%s)", async (url, cls) => {
    const p = policy({
      "internal.test": ["192.168.0.10"],
      "mixed.test": ["93.184.215.14", "127.0.0.1"],
      localhost: ["127.0.0.1", "::1"],
    });
    const error = await refusal(p.checkUrl(url));
    expect(error).toBeInstanceOf(OutboundRefusedError);
    expect(error).toMatchObject({ reason: "address", addressClass: cls });
    expect((error as Error).message).toMatch(/outbound-request policy/);
  });

  it("refuses other schemes and credentials in the URL", async () => {
    const p = policy({});
    expect(await refusal(p.checkUrl("gopher://example.com/"))).toMatchObject({ reason: "scheme" });
    expect(await refusal(p.checkUrl("file:///etc/passwd"))).toMatchObject({ reason: "scheme" });
    expect(await refusal(p.checkUrl("http://u:p@example.com/"))).toMatchObject({
      reason: "credentials",
    });
  });

  it("refuses this machine's own addresses", async () => {
    const error = await refusal(policy({}).checkUrl("http://203.0.113.77/"));
    // 203.0.113.0/24 is also reserved: a public own address stands for the general case.
    expect(error).toBeInstanceOf(OutboundRefusedError);
    const own = new OutboundPolicy({ ownAddresses: () => ["93.184.215.14"] });
    expect(await refusal(own.checkUrl("http://93.184.215.14/"))).toMatchObject({
      addressClass: "this instance",
    });
  });

  it("admits public hosts, names that do not resolve, and what the allow-list names", async () => {
    const p = policy({ "hooks.example": ["93.184.215.14"], "hooks.internal": ["10.1.2.3"] }, [
      "hooks.internal",
      "192.168.7.0/24",
      "::1",
    ]);
    await expect(p.checkUrl("https://hooks.example/x")).resolves.toBeUndefined();
    await expect(p.checkUrl("https://nowhere.example/x")).resolves.toBeUndefined();
    await expect(p.checkUrl("http://hooks.internal:9000/x")).resolves.toBeUndefined();
    await expect(p.checkUrl("http://192.168.7.20/x")).resolves.toBeUndefined();
    await expect(p.checkUrl("http://[::1]/x")).resolves.toBeUndefined();
    // Only what is listed: the rest of the private ranges stay refused.
    expect(await refusal(p.checkUrl("http://192.168.8.1/x"))).toBeInstanceOf(OutboundRefusedError);
    expect(await refusal(p.checkUrl("http://127.0.0.1/x"))).toBeInstanceOf(OutboundRefusedError);
  });
});

describe("OutboundPolicy.lookup (at connect time)", () => {
  it("refuses a name that re-resolves to loopback after it was saved (DNS rebinding)", async () => {
    const names: Record<string, string[]> = { "rebind.test": ["93.184.215.14"] };
    const p = policy(names);
    await expect(p.checkUrl("http://rebind.test/h")).resolves.toBeUndefined();
    names["rebind.test"] = ["127.0.0.1"];

    // A real server on loopback: the request must never reach it.
    let reached = 0;
    const server = http.createServer((_req, res) => {
      reached++;
      res.end("secret");
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const { port } = server.address() as AddressInfo;
    try {
      const error = await new Promise<unknown>((resolve) => {
        const req = http.get(
          `http://rebind.test:${port}/h`,
          { lookup: p.lookup, agent: false },
          () => resolve(null),
        );
        req.on("error", resolve);
      });
      expect(error).toBeInstanceOf(OutboundRefusedError);
      expect(error).toMatchObject({ addressClass: "loopback", address: "127.0.0.1" });
      expect(reached).toBe(0);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it("hands node every admitted address (all: true) or the first one", async () => {
    const p = policy({ "two.test": ["93.184.215.14", "2606:2800:220:1::1"] });
    const all = await new Promise((resolve, reject) =>
      p.lookup("two.test", { all: true }, (err, addresses) =>
        err ? reject(err) : resolve(addresses),
      ),
    );
    expect(all).toEqual([
      { address: "93.184.215.14", family: 4 },
      { address: "2606:2800:220:1::1", family: 6 },
    ]);
    const one = await new Promise((resolve, reject) =>
      p.lookup("two.test", { family: 6 }, (err, address, family) =>
        err ? reject(err) : resolve([address, family]),
      ),
    );
    expect(one).toEqual(["2606:2800:220:1::1", 6]);
  });
});

describe("MODELDECK_OUTBOUND_ALLOW entries", () => {
  it.each([
    ["hooks.internal", null],
    ["10.0.0.0/8", null],
    ["fd00::/8", null],
    ["[::1]", null],
    ["127.0.0.1", null],
    ["10.0.0.0/33", "not a valid CIDR"],
    ["hooks.internal/8", "not a valid CIDR"],
    ["http://hooks.internal", "not a host name"],
    ["a b", "not a host name"],
  ])("%s", (entry, problem) => {
    const found = outboundAllowEntryProblem(entry);
    if (problem === null) expect(found).toBeNull();
    else expect(found).toContain(problem);
  });
});
