/**
 * Upload benchmark: server RSS growth and throughput for a large upload, ModelDeck's
 * streaming path against a plain `pipeline(req, file)` server measured in the same run.
 * Run on demand (not in CI): it writes several GiB to disk.
 *
 *   node --import tsx bench/upload/run.ts [--size 1GiB] [--repeat 3]
 *        [--cases baseline,baseline-web,raw,multipart,raw-nofsync] [--timeout-s 300]
 *
 * Against a running ModelDeck (the real route), the server's RSS is read from --pid:
 *
 *   node --import tsx bench/upload/run.ts --cases baseline,raw,multipart \
 *        --url http://127.0.0.1:3000/api/v1/models/demo/versions --token mdk_… --pid 12345
 *
 * RSS is sampled from /proc/<pid>/status every 50 ms; the kernel's own peak (VmHWM) is
 * reset before each upload through /proc/<pid>/clear_refs when permitted, so short spikes
 * between samples are not missed. Growth = peak during the upload − RSS just before it.
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const here = path.dirname(fileURLToPath(import.meta.url));
const MiB = 1024 * 1024;

const CASES = ["baseline", "baseline-web", "raw", "multipart", "raw-nofsync"] as const;
type CaseName = (typeof CASES)[number];

const { values } = parseArgs({
  options: {
    size: { type: "string", default: "1GiB" },
    repeat: { type: "string", default: "3" },
    cases: { type: "string", default: CASES.join(",") },
    url: { type: "string" },
    token: { type: "string" },
    pid: { type: "string" },
    header: { type: "string", multiple: true, default: [] },
    dir: { type: "string" },
    "timeout-s": { type: "string", default: "300" },
  },
});

type Run = {
  status: number;
  mbPerS: number;
  rssBeforeMiB: number;
  growthMiB: number;
  stageMs: number;
  commitMs: number;
};

function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(B|KiB|MiB|GiB|KB|MB|GB)?$/i.exec(text.trim());
  if (!m) throw new Error(`--size "${text}" is not a size like 1GiB or 500MB`);
  const unit = (m[2] ?? "B").toLowerCase();
  const factor: Record<string, number> = {
    b: 1,
    kib: 1024,
    mib: MiB,
    gib: 1024 * MiB,
    kb: 1e3,
    mb: 1e6,
    gb: 1e9,
  };
  return Math.round(Number(m[1]) * factor[unit]!);
}

async function procStatus(pid: number): Promise<{ rssKiB: number; hwmKiB: number } | null> {
  const text = await fs.readFile(`/proc/${pid}/status`, "utf8").catch(() => null);
  if (!text) return null;
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(text)?.[1]);
  return { rssKiB: field("VmRSS"), hwmKiB: field("VmHWM") };
}

/** Resets VmHWM to the current RSS (Linux ≥ 4.0); false when not permitted. */
async function resetPeak(pid: number): Promise<boolean> {
  return fs.writeFile(`/proc/${pid}/clear_refs`, "5").then(
    () => true,
    () => false,
  );
}

function startSampler(pid: number) {
  let peakKiB = 0;
  const timer = setInterval(() => {
    void procStatus(pid).then((s) => {
      if (s) peakKiB = Math.max(peakKiB, s.rssKiB);
    });
  }, 50);
  return () => {
    clearInterval(timer);
    return peakKiB;
  };
}

async function startServer(mode: string, dir: string, extra: string[]) {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", path.join(here, "server.ts"), "--mode", mode, "--dir", dir, ...extra],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const lines = createInterface({ input: child.stdout! });
  const ready = await new Promise<{ port: number; pid: number }>((resolve, reject) => {
    lines.once("line", (line) => resolve(JSON.parse(line) as { port: number; pid: number }));
    child.once("exit", (code) => reject(new Error(`server exited with ${code}`)));
  });
  return { child, ...ready };
}

async function stopServer(child: ChildProcess) {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  await exited;
}

function runClient(url: string, kind: string, bytes: number, seed: number, headers: string[]) {
  const args = [
    "--import",
    "tsx",
    path.join(here, "client.ts"),
    "--url",
    url,
    "--kind",
    kind,
    "--bytes",
    String(bytes),
    "--seed",
    String(seed),
    "--timeout-s",
    values["timeout-s"],
    ...headers.flatMap((h) => ["--header", h]),
  ];
  return new Promise<{ status: number; elapsedMs: number; response: Record<string, unknown> }>(
    (resolve, reject) => {
      const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] });
      // Bounded: the client aborts itself at --timeout-s; this is the backstop.
      const killer = setTimeout(
        () => child.kill("SIGKILL"),
        (Number(values["timeout-s"]) + 30) * 1000,
      );
      let out = "";
      child.stdout!.on("data", (c: Buffer) => (out += c.toString()));
      child.once("exit", () => {
        clearTimeout(killer);
        try {
          resolve(JSON.parse(out.trim().split("\n").pop() ?? ""));
        } catch {
          reject(new Error(`client printed no result: ${out}`));
        }
      });
    },
  );
}

async function measure(
  name: CaseName,
  target: { url: string; pid: number | null; headers: string[] },
  bytes: number,
  seed: number,
): Promise<Run> {
  const kind = name === "multipart" ? "multipart" : "raw";
  // Let the server settle (JIT, lazy allocations) before taking its "before" figure.
  await new Promise((r) => setTimeout(r, 500));
  const before = target.pid ? await procStatus(target.pid) : null;
  const hwmReset = target.pid ? await resetPeak(target.pid) : false;
  const stopSampler = target.pid ? startSampler(target.pid) : () => 0;
  const result = await runClient(target.url, kind, bytes, seed, target.headers);
  const sampledKiB = stopSampler();
  const after = target.pid ? await procStatus(target.pid) : null;
  const peakKiB = Math.max(sampledKiB, hwmReset && after ? after.hwmKiB : 0);
  const response = result.response ?? {};
  if (result.status < 200 || result.status >= 300) {
    console.error(`${name}: HTTP ${result.status}`, JSON.stringify(response).slice(0, 500));
  }
  return {
    status: result.status,
    mbPerS: bytes / 1e6 / (result.elapsedMs / 1000),
    rssBeforeMiB: before ? before.rssKiB / 1024 : NaN,
    growthMiB: before ? (peakKiB - before.rssKiB) / 1024 : NaN,
    stageMs: Number(response.stageMs ?? NaN),
    commitMs: Number(response.commitMs ?? NaN),
  };
}

const median = (xs: number[]) => {
  const s = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
const fmt = (x: number, digits = 0) => (Number.isNaN(x) ? "–" : x.toFixed(digits));

async function main() {
  const bytes = parseSize(values.size);
  const repeat = Number(values.repeat);
  const cases = values.cases.split(",").map((c) => c.trim()) as CaseName[];
  for (const c of cases) {
    if (!(CASES as readonly string[]).includes(c)) {
      throw new Error(`unknown case "${c}"`);
    }
  }
  const remote = values.url
    ? { url: values.url, pid: values.pid ? Number(values.pid) : null }
    : null;
  if (remote && cases.includes("raw-nofsync")) {
    throw new Error("raw-nofsync needs the local bench server; leave it out with --url");
  }
  // The baselines always run locally: they are the yardstick, not the target.
  const isBaseline = (name: CaseName) => name === "baseline" || name === "baseline-web";
  const headers = [...values.header];
  if (values.token) headers.push(`Authorization: Bearer ${values.token}`);
  const dir = await fs.mkdtemp(path.join(values.dir ?? os.tmpdir(), "modeldeck-bench-upload-"));
  const results = new Map<CaseName, Run[]>();
  try {
    // Interleaved (baseline, raw, multipart, …, then again) so that drift in the machine's
    // state (page cache, thermal) spreads over all cases instead of biasing one.
    for (let r = 0; r < repeat; r += 1) {
      for (const name of cases) {
        const seed = Date.now() + r;
        let run: Run;
        if (remote && !isBaseline(name)) {
          run = await measure(name, { ...remote, headers }, bytes, seed);
        } else {
          const mode = isBaseline(name) ? name : "modeldeck";
          const extra = name === "raw-nofsync" ? ["--no-fsync"] : [];
          const server = await startServer(mode, dir, extra);
          try {
            const url = `http://127.0.0.1:${server.port}/upload`;
            run = await measure(name, { url, pid: server.pid, headers: [] }, bytes, seed);
          } finally {
            await stopServer(server.child);
            // Each run stored a new GiB: drop it so the disk does not fill up.
            await fs.rm(path.join(dir, "artifacts"), { recursive: true, force: true });
          }
        }
        console.error(
          `${name} #${r + 1}: HTTP ${run.status}, ${fmt(run.mbPerS)} MB/s, ` +
            `RSS ${fmt(run.rssBeforeMiB)} MiB + ${fmt(run.growthMiB, 1)} MiB, ` +
            `commit ${fmt(run.commitMs)} ms`,
        );
        results.set(name, [...(results.get(name) ?? []), run]);
      }
    }
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }

  const baseline = median((results.get("baseline") ?? []).map((r) => r.mbPerS));
  const labels: Record<CaseName, string> = {
    baseline: "baseline: `pipeline(req, createWriteStream)`",
    "baseline-web":
      "baseline through the web Request body: `pipeline(Readable.fromWeb(request.body), createWriteStream)`",
    raw: "readUpload raw + LocalArtifactStore (fsync)",
    multipart: "readUpload multipart (busboy) + LocalArtifactStore (fsync)",
    "raw-nofsync": "readUpload raw + LocalArtifactStore, no fsync",
  };
  const lines = [
    `| case | runs | ok | throughput MB/s (median) | vs baseline | server RSS before (MiB) | peak RSS growth MiB (median / max) | commit ms (median) |`,
    `| --- | --- | --- | --- | --- | --- | --- | --- |`,
  ];
  for (const name of cases) {
    const runs = results.get(name) ?? [];
    const ok = runs.filter((r) => r.status >= 200 && r.status < 300).length;
    const mbs = median(runs.map((r) => r.mbPerS));
    const growth = runs.map((r) => r.growthMiB);
    lines.push(
      `| ${labels[name]} | ${runs.length} | ${ok} | ${fmt(mbs)} | ` +
        `${Number.isNaN(baseline) ? "–" : (mbs / baseline).toFixed(2)} | ` +
        `${fmt(median(runs.map((r) => r.rssBeforeMiB)))} | ` +
        `${fmt(median(growth), 1)} / ${fmt(Math.max(...growth.filter((g) => !Number.isNaN(g))), 1)} | ` +
        `${isBaseline(name) ? "–" : fmt(median(runs.map((r) => r.commitMs)))} |`,
    );
  }
  console.log(
    [
      `Payload ${values.size} (${bytes} bytes), ${repeat} run(s) per case, ` +
        `${os.cpus().length} cores, Node ${process.version}, ${new Date().toISOString()}`,
      "",
      ...lines,
    ].join("\n"),
  );
}

await main();
