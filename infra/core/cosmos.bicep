// A serverless Cosmos DB for NoSQL account with local (key) authentication turned off: callers
// sign in with Entra ID and are authorised by Cosmos DB's own data-plane roles, granted below.
// The database and containers the app uses are declared in app/database.bicep.

@description('Name of the Cosmos DB account (3-44 lower-case letters, digits and hyphens).')
@minLength(3)
@maxLength(44)
param name string

@description('Azure region (also the account\'s only write region).')
param location string

@description('Tags for the account.')
param tags object = {}

@description('Principal id of the app identity, granted the built-in Data Contributor role.')
param identityPrincipalId string

@description('Principal id of the developer who deploys, granted the same role; empty for none.')
param developerPrincipalId string = ''

resource account 'Microsoft.DocumentDB/databaseAccounts@2024-11-15' = {
  // checkov:skip=CKV_AZURE_101: the app reaches Cosmos DB over its public endpoint (no VNet in this template); keys are off, so every call needs an Entra ID token and a data role
  // checkov:skip=CKV_AZURE_99: no IP or VNet filter for the same reason: Flex Consumption has no fixed outbound addresses without a VNet
  name: name
  location: location
  tags: tags
  kind: 'GlobalDocumentDB'
  properties: {
    databaseAccountOfferType: 'Standard'
    locations: [
      {
        locationName: location
        failoverPriority: 0
        isZoneRedundant: false
      }
    ]
    consistencyPolicy: {
      defaultConsistencyLevel: 'Session'
    }
    capabilities: [
      {
        name: 'EnableServerless'
      }
    ]
    disableLocalAuth: true
    disableKeyBasedMetadataWriteAccess: true
    minimalTlsVersion: 'Tls12'
    publicNetworkAccess: 'Enabled'
  }
}

// Cosmos DB Built-in Data Contributor: read and write items, run queries; no control-plane rights
// (databases and containers are created by this template, never by the app).
resource dataContributor 'Microsoft.DocumentDB/databaseAccounts/sqlRoleDefinitions@2024-11-15' existing = {
  parent: account
  name: '00000000-0000-0000-0000-000000000002'
}

resource dataRoleAssignments 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments@2024-11-15' = [
  for principalId in filter([identityPrincipalId, developerPrincipalId], id => !empty(id)): {
    parent: account
    name: guid(account.id, principalId, dataContributor.id)
    properties: {
      principalId: principalId
      roleDefinitionId: dataContributor.id
      scope: account.id
    }
  }
]

output name string = account.name
output id string = account.id
output endpoint string = account.properties.documentEndpoint
