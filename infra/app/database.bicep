// The app's database and containers: the same names, partition keys and TTLs as CONTAINERS and
// DEFAULT_TTL in adapters/cosmos.py (tests/infra checks that they agree). In Azure the app never
// creates them; locally devhost does, from those declarations.
//
// Indexing: every path stays indexed (`/*`) except the large bodies nothing filters or sorts on,
// so writes of a finished lesson do not pay to index its content. Paths the queries use (userId,
// roadmapId, moduleId, generationStatus, lease.expiresAt, queuedAt, createdAt, count) must never
// be excluded; tests/infra checks that against the queries in adapters/.

@description('Name of the Cosmos DB account.')
param accountName string

@description('Name of the database.')
param databaseName string

var containers = [
  {
    name: 'roadmaps'
    partitionKey: '/userId'
    excludedPaths: [
      { path: '/modules/*' }
    ]
  }
  {
    name: 'lessons'
    partitionKey: '/userId'
    excludedPaths: [
      { path: '/content/*' }
      { path: '/sources/*' }
      { path: '/attempts/*' }
      { path: '/usage/*' }
      { path: '/progress/*' }
      { path: '/objectives/*' }
      { path: '/description/?' }
      { path: '/researchNote/?' }
      { path: '/generationError/?' }
      { path: '/lastError/?' }
    ]
  }
  {
    name: 'progress'
    partitionKey: '/userId'
    excludedPaths: []
  }
  {
    name: 'quotas'
    partitionKey: '/userId'
    defaultTtl: -1
    excludedPaths: []
  }
  {
    name: 'research-cache'
    partitionKey: '/id'
    defaultTtl: -1
    excludedPaths: [
      { path: '/findings/*' }
      { path: '/query/?' }
    ]
  }
  {
    name: 'lesson-cache'
    partitionKey: '/id'
    defaultTtl: -1
    excludedPaths: [
      { path: '/content/*' }
      { path: '/sources/*' }
    ]
  }
]

resource account 'Microsoft.DocumentDB/databaseAccounts@2024-11-15' existing = {
  name: accountName
}

resource database 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases@2024-11-15' = {
  parent: account
  name: databaseName
  properties: {
    resource: {
      id: databaseName
    }
  }
}

resource sqlContainers 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers@2024-11-15' = [
  for container in containers: {
    parent: database
    name: container.name
    properties: {
      // defaultTtl only where the code relies on TTL (-1: items expire by their own ttl field).
      resource: union({
        id: container.name
        partitionKey: {
          paths: [
            container.partitionKey
          ]
          kind: 'Hash'
          version: 2
        }
        indexingPolicy: {
          indexingMode: 'consistent'
          automatic: true
          includedPaths: [
            { path: '/*' }
          ]
          excludedPaths: concat(container.excludedPaths, [
            { path: '/"_etag"/?' }
          ])
        }
      }, contains(container, 'defaultTtl') ? { defaultTtl: container.defaultTtl } : {})
    }
  }
]

output name string = database.name
