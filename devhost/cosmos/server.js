#!/usr/bin/env node
// Starts @vercel/cosmosdb-server for local development, with two dev-only fixes:
//  1. A point read of a missing item (or of an item under another partition key) crashes the
//     emulator's read handler ("Cannot read properties of undefined") and answers 500; real
//     Cosmos DB answers 404 NotFound. We answer 404, so production code sees what Azure sends.
//  2. The emulator closes every connection after one response unless keepAlive is set; we keep
//     connections alive, as the real service does.
// Usage: node server.js --port 8081 [--host 127.0.0.1]
"use strict";

const readDocument = require("@vercel/cosmosdb-server/lib/handler/read-document");

const readHandler = readDocument.default;
readDocument.default = (account, req, res, params) => {
  try {
    return readHandler(account, req, res, params);
  } catch (err) {
    // The handler dereferences the stored document before checking that it exists.
    if (!(err instanceof TypeError)) throw err;
    res.statusCode = 404;
    return {
      code: "NotFound",
      message: "Entity with the specified id does not exist in the system.",
    };
  }
};

// Loaded only after the patch: the route table captures the handler when it is built.
const { createHttpServer } = require("@vercel/cosmosdb-server");

function parseArgs(argv) {
  const args = { port: 8081, host: "127.0.0.1" };
  for (let i = 0; i < argv.length; i += 1) {
    if (argv[i] === "--port") args.port = Number.parseInt(argv[(i += 1)], 10);
    else if (argv[i] === "--host") args.host = argv[(i += 1)];
    else throw new Error(`unknown argument: ${argv[i]}`);
  }
  return args;
}

const { port, host } = parseArgs(process.argv.slice(2));
const server = createHttpServer({ keepAlive: true });
server.keepAliveTimeout = 60_000;
server.listen(port, host, () => {
  // eslint-disable-next-line no-console
  console.log(`cosmosdb-server ready at http://${host}:${server.address().port}`);
});
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
