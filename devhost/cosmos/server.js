#!/usr/bin/env node
// Starts @vercel/cosmosdb-server for local development, with dev-only changes:
//  1. A point read of a missing item (or of an item under another partition key) crashes the
//     emulator's read handler ("Cannot read properties of undefined") and answers 500; real
//     Cosmos DB answers 404 NotFound. We answer 404, so production code sees what Azure sends.
//  2. The emulator closes every connection after one response unless keepAlive is set; we keep
//     connections alive, as the real service does.
//  3. A conditional patch is checked against the one document patched (see below).
//  4. OFFSET … LIMIT … (paged queries) are run, though the emulator's grammar lacks them.
//  5. With --data FILE it saves its state on shutdown and loads it on start.
//  6. It counts the data-plane operations it serves and the bytes written, per container and
//     kind (read, query, create, replace, patch, ...), for `make bench`: GET /_devhost/stats
//     answers them and DELETE /_devhost/stats starts again. Nothing else answers on that path.
// Usage: node server.js --port 8081 [--host 127.0.0.1] [--data FILE]
"use strict";

const fs = require("fs");

function parseArgs(argv) {
  const args = { port: 8081, host: "127.0.0.1", data: null };
  for (let i = 0; i < argv.length; i += 1) {
    if (argv[i] === "--port") args.port = Number.parseInt(argv[(i += 1)], 10);
    else if (argv[i] === "--host") args.host = argv[(i += 1)];
    else if (argv[i] === "--data") args.data = argv[(i += 1)];
    else throw new Error(`unknown argument: ${argv[i]}`);
  }
  return args;
}

const options = parseArgs(process.argv.slice(2));

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

// 3. A conditional patch (filter_predicate) is checked by the emulator against every document
//    with the same id in the container, whatever its partition, after lower-casing the
//    predicate. Real Cosmos DB checks the one document patched, as written. We do the same.
const cosmosQuery = require("@zeit/cosmosdb-query").default;
const patchOperations = require("@vercel/cosmosdb-server/lib/handler/_patch-operations");
const { parsePartitionKey } = require("@vercel/cosmosdb-server/lib/utils/get-partition-from-header");

const patchHandler = patchOperations.patchOperation;
patchOperations.patchOperation = (collection, input) => {
  if (!input.condition) return patchHandler(collection, input);
  const data = collection.document(input.id, parsePartitionKey(input.partitionKey, input.id)).read();
  if (data) {
    const where = input.condition.trim().replace(/^from\s+c\s+where\s+/i, "");
    const { result } = cosmosQuery(`SELECT * FROM c WHERE (${where})`).exec([data]);
    if (result.length === 0) {
      return {
        statusCode: 412,
        body: { code: "PreconditionFailed", message: "Condition specified in the patch request is not satisfied." },
      };
    }
  }
  return patchHandler(collection, { ...input, condition: undefined });
};

// 4. OFFSET … LIMIT … is not in the emulator's SQL grammar (Cosmos DB has it: paged reads use it).
//    The clause is cut off, the rest of the query runs as usual, and its result is cut to the
//    page here, as Cosmos DB would return it.
const Items = require("@vercel/cosmosdb-server/lib/account/items").default;
const queryItems = Items.prototype.query;
const OFFSET_LIMIT = /\s+OFFSET\s+(@\w+|\d+)\s+LIMIT\s+(@\w+|\d+)\s*$/i;
Items.prototype.query = function (params, options) {
  const match = OFFSET_LIMIT.exec(params.query || "");
  if (!match) return queryItems.call(this, params, options);
  const value = (token) =>
    token.startsWith("@") ? Number((params.parameters || []).find((p) => p.name === token)?.value) : Number(token);
  const [offset, limit] = [value(match[1]), value(match[2])];
  const whole = queryItems.call(this, { ...params, query: params.query.slice(0, match.index) }, {});
  if (!whole) return whole;
  return { ...whole, result: whole.result.slice(offset, offset + limit), continuation: null };
};
// The query handler parses the query once more (to check its partition key) before running it.
const queryModule = require("@zeit/cosmosdb-query");
const parseQuery = queryModule.default;
queryModule.default = (text, ...rest) => parseQuery(String(text).replace(OFFSET_LIMIT, ""), ...rest);

// 5. With --data FILE, the account is saved to FILE when the server stops (SIGTERM/SIGINT) and
//    loaded from it when it starts, etags and all, so a restart loses nothing: the emulator
//    otherwise keeps everything in memory only. Tests restart Cosmos DB mid-flight this way.
const accountModule = require("@vercel/cosmosdb-server/lib/account");

let account = null;
const BaseAccount = accountModule.default;
accountModule.default = class PersistentAccount extends BaseAccount {
  constructor(...args) {
    super(...args);
    account = this;
    if (options.data && fs.existsSync(options.data)) {
      restore(this.databases, JSON.parse(fs.readFileSync(options.data, "utf8")), restoreDatabase);
    }
  }
};

function dump(items, children) {
  return {
    ridCount: items._ridCount,
    items: [...items._data.values()].map(item => ({ data: item.read(), children: children(item) })),
  };
}

function restore(items, saved, children) {
  items._ridCount = saved.ridCount;
  for (const { data, children: nested } of saved.items) {
    items._set(data);
    if (nested) children(items._data.get(data._rid), nested);
  }
}

function restoreDatabase(database, nested) {
  restore(database.collections, nested, (collection, docs) => restore(collection.documents, docs, () => {}));
}

function save() {
  if (!options.data || !account) return;
  const state = dump(account.databases, db => dump(db.collections, coll => dump(coll.documents, () => null)));
  fs.writeFileSync(`${options.data}.tmp`, JSON.stringify(state));
  fs.renameSync(`${options.data}.tmp`, options.data);
}

// Loaded only after the patches: the route table and the account are captured when used.
const { createHttpServer } = require("@vercel/cosmosdb-server");

const { port, host } = options;
const server = createHttpServer({ keepAlive: true });
countOperations(server);
server.keepAliveTimeout = 60_000;
server.listen(port, host, () => {
  // eslint-disable-next-line no-console
  console.log(`cosmosdb-server ready at http://${host}:${server.address().port}`);
});
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    save();
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}

// 6. Operation counts, by "<container>.<kind>": {count, bytes} (bytes: request bodies written).
function countOperations(httpServer) {
  let stats = {};
  const handlers = httpServer.listeners("request");
  httpServer.removeAllListeners("request");
  httpServer.on("request", (req, res) => {
    if (req.url.startsWith("/_devhost/stats")) {
      if (req.method === "DELETE") stats = {};
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify(stats));
      return;
    }
    const key = operationOf(req);
    const entry = stats[key] || (stats[key] = { count: 0, bytes: 0 });
    entry.count += 1;
    entry.bytes += Number.parseInt(req.headers["content-length"] || "0", 10) || 0;
    for (const handler of handlers) handler.call(httpServer, req, res);
  });
}

function operationOf(req) {
  const path = req.url.split("?")[0].replace(/\/+$/, "");
  const doc = path.match(/^\/dbs\/[^/]+\/colls\/([^/]+)\/docs(?:\/([^/]+))?$/);
  if (!doc) return `meta.${req.method.toLowerCase()}`;
  const [, container, id] = doc;
  const header = name => String(req.headers[name] || "").toLowerCase();
  let kind;
  if (id) {
    kind = { GET: "read", PUT: "replace", PATCH: "patch", DELETE: "delete" }[req.method] || req.method;
  } else if (req.method === "POST") {
    const query =
      header("x-ms-documentdb-isquery") === "true" || header("content-type").includes("query+json");
    if (query) kind = "query";
    else kind = header("x-ms-documentdb-is-upsert") === "true" ? "upsert" : "create";
  } else {
    kind = req.method.toLowerCase();
  }
  return `${decodeURIComponent(container)}.${kind}`;
}
