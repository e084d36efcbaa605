// Runs in each test worker: code under test that reads DATABASE_URL itself (getPrisma())
// must see the run's database even if the worker was started before global setup set it.
import { inject } from "vitest";

process.env.DATABASE_URL = inject("databaseUrl");
