// Key Vault in RBAC mode for the provider and research API keys. The app reads them through Key
// Vault references in its app settings, with its own identity (Key Vault Secrets User); the
// developer who deploys may set new versions (Key Vault Secrets Officer) to rotate a key.

@description('Name of the vault (3-24 letters, digits and hyphens).')
@minLength(3)
@maxLength(24)
param name string

@description('Azure region.')
param location string

@description('Tags for the vault.')
param tags object = {}

@description('Turn purge protection on. Once on it cannot be turned off, and a deleted vault keeps its name for the retention period.')
param enablePurgeProtection bool = true

@description('Days a deleted vault or secret can be recovered (7-90).')
@minValue(7)
@maxValue(90)
param softDeleteRetentionInDays int = 7

@description('Public network access to the vault. The app resolves its Key Vault references over it.')
@allowed([
  'Enabled'
  'Disabled'
])
param publicNetworkAccess string = 'Enabled'

@description('Secret name to value; only the names listed in secretNames are created.')
@secure()
param secrets object

@description('Names of the secrets to create: those given a non-empty value.')
param secretNames array

@description('Principal id of the app identity, granted Key Vault Secrets User.')
param identityPrincipalId string

@description('Principal id of the developer who deploys, granted Key Vault Secrets Officer; empty for none.')
param developerPrincipalId string = ''

@description('Kind of the developer principal.')
@allowed([
  'User'
  'Group'
  'ServicePrincipal'
])
param developerPrincipalType string = 'User'

var secretsUserRole = '4633458b-17de-408a-b874-0445c86b69e6'
var secretsOfficerRole = 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7'

resource vault 'Microsoft.KeyVault/vaults@2024-11-01' = {
  // checkov:skip=CKV_AZURE_109: Key Vault references are resolved by the platform over the public endpoint unless the app joins a VNet, which this template does not create; access is RBAC-only
  // checkov:skip=CKV_AZURE_189: public network access is a parameter (keyVaultPublicNetworkAccess) for the same reason
  // checkov:skip=CKV_AZURE_110: purge protection is the parameter enablePurgeProtection (on by default), which checkov cannot evaluate
  // checkov:skip=CKV_AZURE_42: soft delete is always on; purge protection is the parameter above
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: tenant().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: softDeleteRetentionInDays
    // The service refuses false: purge protection is either on or left out.
    enablePurgeProtection: enablePurgeProtection ? true : null
    publicNetworkAccess: publicNetworkAccess
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: 'Allow'
    }
  }
}

resource secret 'Microsoft.KeyVault/vaults/secrets@2024-11-01' = [
  for secretName in secretNames: {
    // checkov:skip=CKV_AZURE_41: API keys expire when their provider says so; an expiry here would stop the app's reference from resolving, so rotation is a new version instead
    parent: vault
    name: secretName
    properties: {
      contentType: 'text/plain'
      value: secrets[secretName]
    }
  }
]

resource identitySecretsUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: vault
  name: guid(vault.id, identityPrincipalId, secretsUserRole)
  properties: {
    principalId: identityPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', secretsUserRole)
  }
}

resource developerSecretsOfficer 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(developerPrincipalId)) {
  scope: vault
  name: guid(vault.id, developerPrincipalId, secretsOfficerRole)
  properties: {
    principalId: developerPrincipalId
    principalType: developerPrincipalType
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', secretsOfficerRole)
  }
}

output name string = vault.name
output id string = vault.id
output uri string = vault.properties.vaultUri
