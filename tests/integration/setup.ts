// Runs in each test worker: code under test that reads DATABASE_URL itself (getPrisma())
// must see the run's database even if the worker was started before global setup set it.
import { inject } from "vitest";

process.env.DATABASE_URL = inject("databaseUrl");

// Stored credentials are sealed with this key; without it, code under test would generate a
// key file in the working directory's ./data.
process.env.MODELDECK_ENCRYPTION_KEY ??= Buffer.alloc(32, 7).toString("base64");
