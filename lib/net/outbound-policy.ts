import { lookup as dnsLookup } from "node:dns/promises";
import type { LookupAddress } from "node:dns";
import { BlockList, isIP, type LookupFunction } from "node:net";
import { networkInterfaces } from "node:os";

/**
 * The one place that decides whether this server may contact a URL (webhooks today; every
 * later outbound request goes through it too). A URL entered by a person must not turn the
 * server into a proxy towards what only the server can reach: its own ports, the database,
 * a cloud metadata service, the private network. So by default:
 *
 * - only http: and https:, and no user:password@ in the URL;
 * - the host, and every address its name resolves to, must not be loopback, link-local,
 *   private, shared (CGNAT), multicast, unspecified, broadcast or otherwise reserved, in any
 *   spelling (WHATWG URL parsing already turns 2130706433, 0x7f000001 and 0177.1 into
 *   127.0.0.1; IPv4-mapped, IPv4-compatible, NAT64 and 6to4 IPv6 forms are judged by the
 *   IPv4 address they carry), nor one of this machine's own interface addresses;
 * - `MODELDECK_OUTBOUND_ALLOW` (host names, addresses, CIDRs) admits deliberate internal
 *   receivers.
 *
 * The check runs when a URL is saved (early, readable feedback) and again at connect time
 * through `lookup`, the resolver hook given to node:http, so the address judged is the address
 * connected to (a name that re-resolves to 127.0.0.1 after it was saved is still refused).
 *
 * Addresses are classified with node's own `net.BlockList` (it matches IPv4-mapped IPv6
 * against IPv4 rules); no dependency needed.
 */

export type AddressClass =
  | "loopback"
  | "link-local"
  | "private"
  | "shared (CGNAT)"
  | "multicast"
  | "unspecified"
  | "broadcast"
  | "reserved"
  | "this instance";

type Range = [address: string, prefix: number];

/** IANA special-purpose ranges, by the class people are told about. Order matters: first wins. */
const RANGES: readonly [AddressClass, { v4: Range[]; v6: Range[] }][] = [
  ["unspecified", { v4: [["0.0.0.0", 8]], v6: [["::", 128]] }],
  ["loopback", { v4: [["127.0.0.0", 8]], v6: [["::1", 128]] }],
  // 169.254.169.254, the cloud metadata service, is in here.
  ["link-local", { v4: [["169.254.0.0", 16]], v6: [["fe80::", 10]] }],
  [
    "private",
    {
      v4: [
        ["10.0.0.0", 8],
        ["172.16.0.0", 12],
        ["192.168.0.0", 16],
      ],
      // Unique local, deprecated site-local, and the local-use NAT64 prefix (RFC 8215).
      v6: [
        ["fc00::", 7],
        ["fec0::", 10],
        ["64:ff9b:1::", 48],
      ],
    },
  ],
  ["shared (CGNAT)", { v4: [["100.64.0.0", 10]], v6: [] }],
  ["multicast", { v4: [["224.0.0.0", 4]], v6: [["ff00::", 8]] }],
  ["broadcast", { v4: [["255.255.255.255", 32]], v6: [] }],
  [
    "reserved",
    {
      v4: [
        ["192.0.0.0", 24],
        ["192.0.2.0", 24],
        ["198.18.0.0", 15],
        ["198.51.100.0", 24],
        ["203.0.113.0", 24],
        ["240.0.0.0", 4],
      ],
      v6: [
        ["100::", 64],
        ["2001:db8::", 32],
      ],
    },
  ],
];

const CLASSIFIERS: readonly [AddressClass, BlockList][] = RANGES.map(([cls, { v4, v6 }]) => {
  const list = new BlockList();
  for (const [a, p] of v4) list.addSubnet(a, p, "ipv4");
  for (const [a, p] of v6) list.addSubnet(a, p, "ipv6");
  return [cls, list];
});

/** The 16 bytes of an IPv6 address (already validated by `isIP`), or null. */
function ipv6Bytes(address: string): number[] | null {
  let text = address.replace(/^\[|\]$/g, "").split("%")[0]!;
  const tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (tail) {
    const [a, b, c, d] = tail[1]!.split(".").map(Number) as [number, number, number, number];
    text = `${text.slice(0, tail.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, rest] = text.split("::") as [string, string | undefined];
  const groups = (s: string) => (s ? s.split(":").map((g) => parseInt(g, 16)) : []);
  const h = groups(head);
  const r = rest === undefined ? [] : groups(rest);
  const gap = 8 - h.length - r.length;
  if (rest !== undefined && gap < 0) return null;
  const words = rest === undefined ? h : [...h, ...Array<number>(gap).fill(0), ...r];
  if (words.length !== 8 || words.some((w) => Number.isNaN(w))) return null;
  return words.flatMap((w) => [w >> 8, w & 0xff]);
}

/**
 * The IPv4 address an IPv6 address carries towards an IPv4 host: IPv4-compatible (::a.b.c.d),
 * NAT64 (64:ff9b::/96) and 6to4 (2002:a.b.c.d::/48). IPv4-mapped (::ffff:a.b.c.d) BlockList
 * already handles.
 */
function embeddedIPv4(address: string): string | null {
  const b = ipv6Bytes(address);
  if (!b) return null;
  const v4 = (i: number) => b.slice(i, i + 4).join(".");
  const zero = (from: number, to: number) => b.slice(from, to).every((x) => x === 0);
  if (zero(0, 12) && !zero(12, 16) && !(zero(12, 15) && b[15] === 1)) return v4(12);
  if (b[0] === 0x00 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b && zero(4, 12))
    return v4(12);
  if (b[0] === 0x20 && b[1] === 0x02) return v4(2);
  return null;
}

/** The special-purpose class of an IP address, or null for an ordinary (public) address. */
export function classifyAddress(address: string): AddressClass | null {
  const bare = address.replace(/^\[|\]$/g, "");
  const family = isIP(bare);
  if (family === 0) return "reserved";
  const type = family === 4 ? "ipv4" : "ipv6";
  for (const [cls, list] of CLASSIFIERS) if (list.check(bare, type)) return cls;
  if (family === 6) {
    const inner = embeddedIPv4(bare);
    if (inner) return classifyAddress(inner);
  }
  return null;
}

export type OutboundRefusalReason = "scheme" | "credentials" | "address" | "unparsable";

/** Thrown (or given to node's socket) when the policy refuses a URL or an address. */
export class OutboundRefusedError extends Error {
  readonly code = "OUTBOUND_REFUSED";
  constructor(
    message: string,
    readonly reason: OutboundRefusalReason,
    readonly host: string | null = null,
    readonly address: string | null = null,
    readonly addressClass: AddressClass | null = null,
  ) {
    super(message);
    this.name = "OutboundRefusedError";
  }
}

/** Resolves a host name to every address it has (injectable for tests). */
export type Resolver = (hostname: string) => Promise<LookupAddress[]>;

const systemResolver: Resolver = (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

/** How long the check on save waits for DNS before it gives up on resolving. */
const SAVE_RESOLVE_TIMEOUT_MS = 3_000;

export type OutboundPolicyOptions = {
  /** `MODELDECK_OUTBOUND_ALLOW`'s entries: host names, IP addresses and CIDRs. */
  allow?: readonly string[];
  resolver?: Resolver;
  /** This machine's addresses (default: every interface's, read at each check). */
  ownAddresses?: () => readonly string[];
};

const normaliseHost = (host: string) =>
  host
    .toLowerCase()
    .replace(/^\[|\]$/g, "")
    .replace(/\.$/, "");

function interfaceAddresses(): string[] {
  return Object.values(networkInterfaces()).flatMap((list) =>
    (list ?? []).map((i) => i.address.split("%")[0]!),
  );
}

export class OutboundPolicy {
  private readonly allowedHosts = new Set<string>();
  private readonly allowedAddresses = new BlockList();
  private readonly resolver: Resolver;
  private readonly ownAddresses: () => readonly string[];

  constructor(opts: OutboundPolicyOptions = {}) {
    for (const entry of opts.allow ?? []) {
      const [addr, prefix] = entry.split("/") as [string, string | undefined];
      const bare = normaliseHost(addr);
      const family = isIP(bare);
      if (family === 0) {
        this.allowedHosts.add(bare);
        continue;
      }
      const type = family === 4 ? "ipv4" : "ipv6";
      if (prefix === undefined) this.allowedAddresses.addAddress(bare, type);
      else this.allowedAddresses.addSubnet(bare, Number(prefix), type);
    }
    this.resolver = opts.resolver ?? systemResolver;
    this.ownAddresses = opts.ownAddresses ?? interfaceAddresses;
  }

  /**
   * What the policy says about one resolved address for `host`: null when it may be
   * contacted, else the refusal.
   */
  judgeAddress(host: string, address: string): OutboundRefusedError | null {
    const bare = normaliseHost(address);
    const family = isIP(bare);
    if (family !== 0 && this.allowedAddresses.check(bare, family === 4 ? "ipv4" : "ipv6")) {
      return null;
    }
    let cls = classifyAddress(bare);
    if (!cls && this.ownAddresses().some((own) => sameAddress(own, bare))) cls = "this instance";
    if (!cls) return null;
    const article = /^[aeiou]/.test(cls) ? "an" : "a";
    const shown = host === bare ? bare : `${host} (${bare})`;
    return new OutboundRefusedError(
      `The outbound-request policy refuses ${shown}: it is ${article} ${cls} address. ` +
        "ModelDeck only contacts public addresses unless MODELDECK_OUTBOUND_ALLOW admits the receiver.",
      "address",
      host,
      bare,
      cls,
    );
  }

  /**
   * The checks that need no DNS: scheme, credentials, and the host itself when it is an IP
   * address or an allow-listed name. Returns the parsed URL and whether its name still needs
   * resolving to be judged.
   */
  checkUrlSyntax(input: string | URL): { url: URL; needsResolve: boolean } {
    let url: URL;
    try {
      url = new URL(input);
    } catch {
      throw new OutboundRefusedError(
        "The outbound-request policy refuses a URL it cannot parse.",
        "unparsable",
      );
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new OutboundRefusedError(
        `The outbound-request policy refuses ${url.protocol} URLs: only http: and https: are contacted.`,
        "scheme",
        url.hostname,
      );
    }
    if (url.username || url.password) {
      throw new OutboundRefusedError(
        "The outbound-request policy refuses URLs with a user name or password (user:password@host): put the receiver's credentials in its path or query instead.",
        "credentials",
        url.hostname,
      );
    }
    const host = normaliseHost(url.hostname);
    if (this.allowedHosts.has(host)) return { url, needsResolve: false };
    if (isIP(host) !== 0) {
      const refusal = this.judgeAddress(host, host);
      if (refusal) throw refusal;
      return { url, needsResolve: false };
    }
    return { url, needsResolve: true };
  }

  /**
   * The check when a URL is saved: syntax, then every address the host resolves to. A name
   * that does not resolve (yet) is accepted: there is nothing to judge, and the connect-time
   * check judges whatever it resolves to later.
   */
  async checkUrl(input: string | URL): Promise<void> {
    const { url, needsResolve } = this.checkUrlSyntax(input);
    if (!needsResolve) return;
    const host = normaliseHost(url.hostname);
    let timer: NodeJS.Timeout | undefined;
    const addresses = await Promise.race([
      this.resolver(host).catch(() => [] as LookupAddress[]),
      new Promise<LookupAddress[]>((resolve) => {
        timer = setTimeout(() => resolve([]), SAVE_RESOLVE_TIMEOUT_MS);
      }),
    ]).finally(() => clearTimeout(timer));
    for (const { address } of addresses) {
      const refusal = this.judgeAddress(host, address);
      if (refusal) throw refusal;
    }
  }

  /**
   * A resolver hook for node:net / node:http (`lookup` option): resolves through the policy,
   * so a connection is only ever made to an address it admits. Any refused address among the
   * answers refuses the host (an attacker's DNS could otherwise alternate).
   */
  readonly lookup: LookupFunction = (hostname, options, callback) => {
    const host = normaliseHost(hostname);
    this.resolver(host).then(
      (all) => {
        // Every answer is judged, whichever family the socket asked for.
        if (!this.allowedHosts.has(host)) {
          for (const { address } of all) {
            const refusal = this.judgeAddress(host, address);
            if (refusal) return callback(refusal, "", 0);
          }
        }
        const wanted = options.family === 4 || options.family === 6 ? options.family : 0;
        const addresses = wanted ? all.filter((a) => a.family === wanted) : all;
        if (addresses.length === 0) {
          const error = Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), {
            code: "ENOTFOUND",
            hostname,
          });
          return callback(error, "", 0);
        }
        if (options.all) return (callback as LookupAllCallback)(null, addresses);
        return callback(null, addresses[0]!.address, addresses[0]!.family);
      },
      (error: NodeJS.ErrnoException) => callback(error, "", 0),
    );
  };
}

type LookupAllCallback = (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void;

function sameAddress(a: string, b: string): boolean {
  const fa = isIP(a);
  const fb = isIP(b);
  if (fa === 0 || fb === 0) return false;
  if (fa === fb && fa === 4) return a === b;
  const list = new BlockList();
  list.addAddress(a, fa === 4 ? "ipv4" : "ipv6");
  return list.check(b, fb === 4 ? "ipv4" : "ipv6");
}

/** Parses `MODELDECK_OUTBOUND_ALLOW`: comma-separated host names, addresses and CIDRs. */
export function parseOutboundAllow(raw: string | undefined): string[] {
  return (raw ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
}

const HOST_NAME =
  /^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*\.?$/i;

/** What is wrong with one allow-list entry, or null (lib/config refuses to start on it). */
export function outboundAllowEntryProblem(entry: string): string | null {
  const [addr, prefix, extra] = entry.split("/");
  const bare = (addr ?? "").replace(/^\[|\]$/g, "");
  const family = isIP(bare);
  if (extra !== undefined) return `"${entry}" is not a host name, address or CIDR`;
  if (prefix !== undefined) {
    const max = family === 4 ? 32 : family === 6 ? 128 : -1;
    if (max < 0 || !/^\d{1,3}$/.test(prefix) || Number(prefix) > max) {
      return `"${entry}" is not a valid CIDR (address/prefix, e.g. 10.0.0.0/8 or fd00::/8)`;
    }
    return null;
  }
  if (family !== 0 || HOST_NAME.test(bare)) return null;
  return `"${entry}" is not a host name, address or CIDR`;
}

let current: { raw: string | undefined; policy: OutboundPolicy } | undefined;

/**
 * The policy of this process, from `MODELDECK_OUTBOUND_ALLOW` (validated at start-up by
 * lib/config). Rebuilt only when the variable changes (tests set it per file).
 */
export function outboundPolicy(
  env: Record<string, string | undefined> = process.env,
): OutboundPolicy {
  const raw = env.MODELDECK_OUTBOUND_ALLOW;
  if (!current || current.raw !== raw) {
    current = { raw, policy: new OutboundPolicy({ allow: parseOutboundAllow(raw) }) };
  }
  return current.policy;
}
