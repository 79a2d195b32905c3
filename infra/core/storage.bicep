// The storage account: the Functions host's own storage, the generation queues and the Flex
// Consumption deployment container. Shared keys are off, so every caller signs in with Entra ID
// (the app's identity, or the developer's login); the roles they need are granted below.

@description('Name of the storage account (3-24 lower-case letters and digits).')
@minLength(3)
@maxLength(24)
param name string

@description('Azure region.')
param location string

@description('Tags for the storage account.')
param tags object = {}

@description('Queues to create (the app reads their names from adapters/queue.py).')
param queueNames array

@description('Blob container that holds the function app deployment package.')
param deploymentContainerName string

@description('Principal id of the app identity, granted queue and blob data roles.')
param identityPrincipalId string

@description('Principal id of the developer who deploys, granted the same data roles; empty for none.')
param developerPrincipalId string = ''

@description('Kind of the developer principal.')
@allowed([
  'User'
  'Group'
  'ServicePrincipal'
])
param developerPrincipalType string = 'User'

// Built-in roles: Storage Queue Data Contributor (queue triggers, the publisher, the poison queue)
// and Storage Blob Data Owner (the host's leases and keys, the deployment package).
var dataRoles = [
  '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
]

resource storage 'Microsoft.Storage/storageAccounts@2025-01-01' = {
  // checkov:skip=CKV_AZURE_35: the app reaches storage over the public endpoint with Entra ID (no VNet); shared keys are off
  // checkov:skip=CKV_AZURE_59: public network access stays on for the same reason; every request needs an Entra ID token
  // checkov:skip=CKV_AZURE_206: LRS: queued messages and the deployment package can be recreated; GRS would double the cost
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    accessTier: 'Hot'
    allowBlobPublicAccess: false
    allowCrossTenantReplication: false
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: 'Allow'
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2025-01-01' = {
  parent: storage
  name: 'default'
  properties: {
    deleteRetentionPolicy: {
      enabled: true
      days: 7
    }
    containerDeleteRetentionPolicy: {
      enabled: true
      days: 7
    }
  }
}

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2025-01-01' = {
  parent: blobService
  name: deploymentContainerName
  properties: {
    publicAccess: 'None'
  }
}

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2025-01-01' = {
  parent: storage
  name: 'default'
}

resource queues 'Microsoft.Storage/storageAccounts/queueServices/queues@2025-01-01' = [
  for queueName in queueNames: {
    parent: queueService
    name: queueName
  }
]

resource identityDataRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for role in dataRoles: {
    scope: storage
    name: guid(storage.id, identityPrincipalId, role)
    properties: {
      principalId: identityPrincipalId
      principalType: 'ServicePrincipal'
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role)
    }
  }
]

resource developerDataRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for role in (empty(developerPrincipalId) ? [] : dataRoles): {
    scope: storage
    name: guid(storage.id, developerPrincipalId, role)
    properties: {
      principalId: developerPrincipalId
      principalType: developerPrincipalType
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role)
    }
  }
]

output name string = storage.name
output id string = storage.id
output blobEndpoint string = storage.properties.primaryEndpoints.blob
output queueEndpoint string = storage.properties.primaryEndpoints.queue
output deploymentContainerUrl string = '${storage.properties.primaryEndpoints.blob}${deploymentContainer.name}'
