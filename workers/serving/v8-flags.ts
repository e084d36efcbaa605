import v8 from "node:v8";

// Allocation-site pretenuring misfires on a server: the objects of the requests in flight
// survive the scavenge that finds them (a few ms of life, tens of requests at once), so V8
// starts allocating every request's objects straight in the old generation, which then
// grows by megabytes a second and makes each scavenge several times slower. Measured in
// bench/serving (MLP, 64 clients, logging off): scavenges 6–9 ms → 1–2 ms, the heap flat at
// 50 MB instead of climbing past 140, server CPU per request 85–95 µs → 53 µs.
//
// A side-effect module imported first by every serving entry (the process itself and each
// cluster worker, which node:cluster starts from instance.ts, not main.ts), so the flag is
// set before any serving code is loaded and no allocation site has been pretenured yet.
v8.setFlagsFromString("--no-allocation-site-pretenuring");
