/**
 * Every environment variable an operator may set, which role reads it, and its default: the
 * source of docs/deploying-on-kubernetes.md's configuration table, and what the deployment
 * manifests are checked against (tests/integration/deploy). Variables the zod schemas read
 * (lib/config, lib/jobs/settings.ts, lib/notifications/settings.ts) must all be listed here;
 * a test keeps the two in step.
 */
export const ROLES = ["web", "serving", "scheduler", "migrate"] as const;
export type Role = (typeof ROLES)[number];

export type ConfigVariable = {
  name: string;
  /** The roles that read it (`npm start`'s supervisor reads them all). */
  roles: readonly Role[];
  /** As the docs show it. */
  default: string;
  /** Belongs in a Secret, never in a ConfigMap. */
  secret?: true;
  /** Read by the AWS SDK's own configuration chain rather than by ModelDeck's code. */
  readBy?: "aws-sdk";
  /** Part of the S3 artifact store's configuration. */
  artifactStore?: true;
  /** Only meaningful for `npm start` (the embedded database); ignored by single roles. */
  singleHostOnly?: true;
  description: string;
};

const ALL: readonly Role[] = ROLES;
const RUNNING: readonly Role[] = ["web", "serving", "scheduler"];
const STORE_USERS: readonly Role[] = ["web", "serving", "scheduler", "migrate"];

export const CONFIG_VARIABLE_CATALOGUE: readonly ConfigVariable[] = [
  // Connections and listeners
  {
    name: "DATABASE_URL",
    roles: ALL,
    default: "(embedded with npm start; required for single roles)",
    secret: true,
    description: "PostgreSQL connection string, `postgresql://user:pass@host:5432/db`.",
  },
  {
    name: "MODELDECK_HOST",
    roles: RUNNING,
    default: "127.0.0.1",
    description: "Interface the listeners bind to; `0.0.0.0` in a container.",
  },
  {
    name: "MODELDECK_WEB_PORT",
    roles: ["web"],
    default: "3000",
    description: "Dashboard, management API and web probes.",
  },
  {
    name: "MODELDECK_SERVING_PORT",
    roles: ["serving"],
    default: "8000",
    description: "Open Inference Protocol, /metrics and serving probes.",
  },
  {
    name: "MODELDECK_GRPC_PORT",
    roles: ["serving"],
    default: "8001",
    description:
      "Open Inference Protocol over gRPC (KServe v2 `GRPCInferenceService`); `off` turns it off.",
  },
  {
    name: "MODELDECK_SERVING_URL",
    roles: ["web"],
    default: "http://<host>:<serving port>",
    description: 'How web reaches serving (health, "Try it"): the serving Service in Kubernetes.',
  },
  {
    name: "MODELDECK_SCHEDULER_HEALTH_PORT",
    roles: ["scheduler"],
    default: "(unset: no probe listener)",
    description: "Port of the scheduler's /livez and /readyz listener.",
  },
  {
    name: "MODELDECK_DB_PORT",
    roles: [],
    default: "54329",
    singleHostOnly: true,
    description: "Port of the embedded PostgreSQL that `npm start` runs.",
  },
  {
    name: "MODELDECK_PUBLIC_URL",
    roles: ["web"],
    default: "http://<host>:<web port>",
    description:
      "The URL people open; session cookies and CSRF checks are bound to it (`https://` makes cookies Secure).",
  },
  {
    name: "MODELDECK_TRUST_PROXY",
    roles: ["web"],
    default: "0",
    description: "`1`: take the client address from X-Forwarded-For (behind an ingress you run).",
  },
  {
    name: "MODELDECK_TLS_CERT",
    roles: ["web", "serving"],
    default: "(none: plain HTTP)",
    description:
      "PEM certificate (chain) file: web, serving and gRPC answer TLS only, cookies are `Secure`, web sends HSTS. Needs `MODELDECK_TLS_KEY`.",
  },
  {
    name: "MODELDECK_TLS_KEY",
    roles: ["web", "serving"],
    default: "(none: plain HTTP)",
    description: "PEM private key file of `MODELDECK_TLS_CERT`; both or neither.",
  },
  {
    name: "MODELDECK_DATA_DIR",
    roles: ALL,
    default: "./data",
    description:
      "Local files: the artifact store when it is a directory, imports, run scratch files. A writable volume (emptyDir) in a container.",
  },
  {
    name: "MODELDECK_LOG_LEVEL",
    roles: ALL,
    default: "info",
    description: "`trace` … `fatal`; JSON lines on stdout.",
  },
  // Secrets and install-time provisioning
  {
    name: "MODELDECK_SECRET",
    roles: ["web", "serving", "migrate"],
    default: "(generated, stored in the database)",
    secret: true,
    description: "Signs sessions (≥ 32 characters); every web replica shares it.",
  },
  {
    name: "MODELDECK_ENCRYPTION_KEY",
    roles: ALL,
    default: "(generated into MODELDECK_DATA_DIR/encryption.key)",
    secret: true,
    description:
      "Seals stored credentials such as webhook secrets (AES-256-GCM): 32 bytes, base64 or hex (`openssl rand -base64 32`). Every replica needs the same key; back it up apart from the database.",
  },
  {
    name: "MODELDECK_ENCRYPTION_KEY_PREVIOUS",
    roles: ALL,
    default: "(none)",
    secret: true,
    description:
      "During a key rotation only: the key being replaced, still accepted for reading until `modeldeck keys rotate` has re-sealed every value.",
  },
  {
    name: "MODELDECK_ADMIN_EMAIL",
    roles: ["migrate"],
    default: "admin@modeldeck.local",
    description: "Email of the admin created when the database has no user yet.",
  },
  {
    name: "MODELDECK_ADMIN_PASSWORD",
    roles: ["migrate"],
    default: "(generated, printed once in the migrate log)",
    secret: true,
    description: "Password of that admin.",
  },
  {
    name: "MODELDECK_BOOTSTRAP_TOKEN",
    roles: ["migrate"],
    default: "(unset)",
    secret: true,
    description: "Registers this value (`mdk_` + ≥ 32 characters) as an admin API token.",
  },
  {
    name: "MODELDECK_DEMO",
    roles: ["migrate"],
    default: "on with npm start; off for `modeldeck migrate`",
    description: "`on` seeds the demo model on a database without models.",
  },
  // Web
  {
    name: "MODELDECK_SIGNIN_RATE_LIMIT",
    roles: ["web"],
    default: "30/60",
    description:
      "Sign-in requests per client address per window (`attempts/seconds`), right or wrong: a flood ceiling above the failure limits below.",
  },
  {
    name: "MODELDECK_SIGNIN_ACCOUNT_LIMIT",
    roles: ["web"],
    default: "5/900",
    description:
      "Wrong passwords for one account from one address (`failures/seconds`) before that account is locked from that address for the window.",
  },
  {
    name: "MODELDECK_SIGNIN_ACCOUNT_GLOBAL_LIMIT",
    roles: ["web"],
    default: "20/900",
    description:
      "Wrong passwords for one account from any address (`failures/seconds`) before the account is locked everywhere for the window.",
  },
  {
    name: "MODELDECK_SIGNIN_ADDRESS_LIMIT",
    roles: ["web"],
    default: "50/900",
    description:
      "Wrong passwords from one address over all accounts (`failures/seconds`) before that address is locked for the window.",
  },
  {
    name: "MODELDECK_MAX_UPLOAD_BYTES",
    roles: ["web", "scheduler"],
    default: "2147483648",
    description: "Largest ONNX file an upload, import or trainer may produce.",
  },
  {
    name: "MODELDECK_MAX_DATASET_BYTES",
    roles: ["web"],
    default: "1073741824",
    description: "Largest dataset file an upload may carry.",
  },
  {
    name: "MODELDECK_EVALUATION_TIMEOUT_SECONDS",
    roles: ["web", "scheduler"],
    default: "900",
    description: "Time limit of one evaluation child process.",
  },
  // Serving
  {
    name: "MODELDECK_SERVING_AUTH",
    roles: ["serving"],
    default: "on",
    description: "`off` lets inference requests through without an API token.",
  },
  {
    name: "MODELDECK_SERVING_MAX_BODY_BYTES",
    roles: ["serving"],
    default: "33554432",
    description: "Largest inference request body.",
  },
  {
    name: "MODELDECK_SERVING_THREADS",
    roles: ["serving"],
    default: "1",
    description: "onnxruntime intra-op threads per loaded version (`0` = one per core).",
  },
  {
    name: "MODELDECK_SERVING_WORKERS",
    roles: ["serving"],
    default: "1",
    description: "Event loops per serving process (node:cluster); match the pod's CPU limit.",
  },
  {
    name: "MODELDECK_SERVING_KEEPALIVE_SECONDS",
    roles: ["serving"],
    default: "65",
    description:
      "Idle keep-alive timeout of serving connections; keep it longer than the load balancer's idle timeout.",
  },
  {
    name: "MODELDECK_SERVING_HEADERS_TIMEOUT_SECONDS",
    roles: ["serving"],
    default: "keep-alive + 1",
    description: "Time a client has to send a request's headers.",
  },
  {
    name: "MODELDECK_SERVING_REQUEST_TIMEOUT_SECONDS",
    roles: ["serving"],
    default: "120",
    description: "Time a client has to send a whole request.",
  },
  {
    name: "MODELDECK_SERVING_DRAIN_DELAY_SECONDS",
    roles: ["serving"],
    default: "0 (5 in the manifests)",
    description:
      "After SIGTERM: seconds serving keeps answering, not ready and with `Connection: close`, before it stops accepting.",
  },
  {
    name: "MODELDECK_SERVING_DRAIN_TIMEOUT_SECONDS",
    roles: ["serving"],
    default: "10",
    description: "After that: how long requests in flight may take before they are cut.",
  },
  {
    name: "MODELDECK_SERVING_RECONCILE_SECONDS",
    roles: ["serving"],
    default: "30",
    description: "How often serving re-reads the registry in case it missed a notification.",
  },
  {
    name: "MODELDECK_PREDICTION_LOG",
    roles: ["serving"],
    default: "on",
    description: "`off` stops writing the prediction log.",
  },
  // Scheduler
  {
    name: "MODELDECK_PREDICTION_LOG_RETENTION_DAYS",
    roles: ["scheduler"],
    default: "30",
    description: "Days raw prediction logs and their feedback are kept.",
  },
  {
    name: "MODELDECK_LOG_EXPORT",
    roles: ["scheduler"],
    default: "false",
    description:
      "Export each expired day of the prediction log (gzipped CSV) to the artifact store before it is dropped.",
  },
  {
    name: "MODELDECK_ROLLUP_RETENTION_DAYS",
    roles: ["scheduler"],
    default: "400",
    description: "Days per-minute rollups are kept (at least the log retention).",
  },
  {
    name: "MODELDECK_FEEDBACK_PENDING_SECONDS",
    roles: ["scheduler"],
    default: "3600",
    description: "How long feedback waits for its prediction before it counts as expired.",
  },
  {
    name: "MODELDECK_ALERT_EVALUATION_SECONDS",
    roles: ["scheduler"],
    default: "15",
    description: "How often alert rules are evaluated (one replica per evaluation).",
  },
  {
    name: "MODELDECK_DRIFT_SNAPSHOT_SCHEDULE",
    roles: ["scheduler"],
    default: "*/5 * * * *",
    description: "When drift snapshots are stored (cron).",
  },
  {
    name: "MODELDECK_TRAINER_COMMAND",
    roles: ["scheduler"],
    default: "(unset)",
    description: "The external trainer retrain jobs may run (JSON argv array or a command line).",
  },
  {
    name: "MODELDECK_JOB_LEASE_SECONDS",
    roles: ["scheduler"],
    default: "30",
    description: "Lease of a running job run; renewed every third of it.",
  },
  {
    name: "MODELDECK_JOB_POLL_SECONDS",
    roles: ["scheduler"],
    default: "2",
    description: "How often a scheduler looks for queued runs.",
  },
  {
    name: "MODELDECK_SCHEDULER_RESYNC_SECONDS",
    roles: ["scheduler"],
    default: "30",
    description: "How often a scheduler re-reads the jobs.",
  },
  {
    name: "MODELDECK_SCHEDULER_CONCURRENCY",
    roles: ["scheduler"],
    default: "2",
    description: "Runs one scheduler executes at once.",
  },
  {
    name: "MODELDECK_SCHEDULER_SHUTDOWN_GRACE_SECONDS",
    roles: ["scheduler"],
    default: "8",
    description: "On SIGTERM, how long running runs may finish before they are failed.",
  },
  {
    name: "MODELDECK_SCHEDULER_CATCHUP_SECONDS",
    roles: ["scheduler"],
    default: "60",
    description: "Fires missed while busy still run if at most this late.",
  },
  {
    name: "MODELDECK_JOB_RETRY_BASE_SECONDS",
    roles: ["scheduler"],
    default: "5",
    description: "First retry delay of a failed run; doubled per attempt.",
  },
  {
    name: "MODELDECK_OUTBOUND_ALLOW",
    roles: ["web", "scheduler"],
    default: "(none)",
    description:
      "Hosts, addresses and CIDRs webhooks may reach although internal (`hooks.internal,10.8.0.0/16`); docs/security.md.",
  },
  {
    name: "MODELDECK_WEBHOOK_TIMEOUT_SECONDS",
    roles: ["scheduler"],
    default: "10",
    description: "How long a webhook receiver has to answer one attempt.",
  },
  {
    name: "MODELDECK_WEBHOOK_RETRY_BASE_SECONDS",
    roles: ["scheduler"],
    default: "10",
    description: "First webhook retry delay; doubled per attempt, with jitter.",
  },
  {
    name: "MODELDECK_WEBHOOK_RETRY_MAX_SECONDS",
    roles: ["scheduler"],
    default: "3600",
    description: "Longest webhook retry delay.",
  },
  {
    name: "MODELDECK_WEBHOOK_POLL_SECONDS",
    roles: ["scheduler"],
    default: "2",
    description: "How often a scheduler looks for due webhook deliveries.",
  },
  {
    name: "MODELDECK_WEBHOOK_CONCURRENCY",
    roles: ["scheduler"],
    default: "4",
    description: "Webhook attempts one scheduler has in flight.",
  },
  {
    name: "MODELDECK_WEBHOOK_RETENTION_DAYS",
    roles: ["scheduler"],
    default: "30",
    description: "Days finished deliveries stay in the delivery log.",
  },
  // Artifact store (S3-compatible)
  {
    name: "MODELDECK_ARTIFACT_STORE",
    roles: STORE_USERS,
    default: "(unset: `<data dir>/artifacts`)",
    artifactStore: true,
    description: "`s3://bucket/prefix` keeps artifacts and datasets in an S3-compatible bucket.",
  },
  {
    name: "MODELDECK_S3_FORCE_PATH_STYLE",
    roles: STORE_USERS,
    default: "false",
    artifactStore: true,
    description: "`true` for MinIO, Ceph RGW and other stores without virtual-host buckets.",
  },
  {
    name: "MODELDECK_ARTIFACT_CACHE_DIR",
    roles: STORE_USERS,
    default: "<data dir>/cache",
    artifactStore: true,
    description: "Local cache of artifacts read from the bucket (an emptyDir in Kubernetes).",
  },
  {
    name: "MODELDECK_ARTIFACT_CACHE_BYTES",
    roles: STORE_USERS,
    default: "(the store's default)",
    artifactStore: true,
    description: "Size bound of that cache; least recently used artifacts are evicted.",
  },
  {
    name: "AWS_ENDPOINT_URL",
    roles: STORE_USERS,
    default: "(AWS)",
    readBy: "aws-sdk",
    artifactStore: true,
    description:
      "Endpoint of a non-AWS S3-compatible store (MinIO, Ceph RGW, GCS interoperability).",
  },
  {
    name: "AWS_REGION",
    roles: STORE_USERS,
    default: "(none)",
    readBy: "aws-sdk",
    artifactStore: true,
    description: "Region of the bucket (any value, e.g. `us-east-1`, for MinIO).",
  },
  {
    name: "AWS_ACCESS_KEY_ID",
    roles: STORE_USERS,
    default: "(from the SDK's credential chain)",
    secret: true,
    readBy: "aws-sdk",
    artifactStore: true,
    description: "Access key; or use a credentials file, or IRSA / workload identity.",
  },
  {
    name: "AWS_SECRET_ACCESS_KEY",
    roles: STORE_USERS,
    default: "(from the SDK's credential chain)",
    secret: true,
    readBy: "aws-sdk",
    artifactStore: true,
    description: "Secret key belonging to the access key.",
  },
  {
    name: "AWS_SHARED_CREDENTIALS_FILE",
    roles: STORE_USERS,
    default: "~/.aws/credentials",
    readBy: "aws-sdk",
    artifactStore: true,
    description: "A mounted credentials file instead of key variables.",
  },
];

const byName = new Map(CONFIG_VARIABLE_CATALOGUE.map((v) => [v.name, v]));

export function findConfigVariable(name: string): ConfigVariable | undefined {
  return byName.get(name);
}
