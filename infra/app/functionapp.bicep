// The function app on the Flex Consumption plan, running as the user-assigned identity. Every
// connection is identity-based: host storage (AzureWebJobsStorage__*), the deployment container,
// Cosmos DB (AZURE_CLIENT_ID for DefaultAzureCredential), Application Insights (Entra ID
// ingestion) and Key Vault references. Runtime and scale live in functionAppConfig: Flex
// Consumption refuses FUNCTIONS_WORKER_RUNTIME and FUNCTIONS_EXTENSION_VERSION as app settings.

@description('Name of the function app.')
param name string

@description('Name of the Flex Consumption plan.')
param planName string

@description('Azure region.')
param location string

@description('Tags for the plan and the app (the app also gets azd-service-name).')
param tags object = {}

@description('Service name in azure.yaml; azd finds the app by this tag.')
param serviceName string = 'api'

@description('Resource id of the user-assigned identity the app runs as.')
param identityId string

@description('Client id of that identity.')
param identityClientId string

@description('Name of the storage account for the host (leases, keys, queue triggers).')
param storageAccountName string

@description('URL of the blob container that holds the deployment package.')
param deploymentContainerUrl string

@description('Application Insights connection string (ingestion is authenticated with Entra ID).')
param applicationInsightsConnectionString string

@description('Traces per second the Python worker keeps (OTEL_TRACES_SAMPLER_ARG of the rate-limited sampler); metrics are never sampled.')
param traceSamplesPerSecond string = '1'

@description('Name of the Key Vault the references point at.')
param keyVaultName string

@description('App setting name to Key Vault secret name; only secrets that exist may be listed.')
param keyVaultSecretSettings object = {}

@description('The app\'s own settings (name to string value), read by adapters/settings.py.')
param appSettings object

@description('Most instances the app may scale out to (40-1000).')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('Memory of each instance in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Concurrent HTTP requests one instance takes before another is added.')
@minValue(1)
@maxValue(1000)
param httpPerInstanceConcurrency int = 16

// Read by the Functions host and the Azure SDKs rather than by adapters/settings.py.
var hostSettings = {
  AzureWebJobsStorage__accountName: storageAccountName
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId
  AZURE_CLIENT_ID: identityClientId
  APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsightsConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
  // OpenTelemetry (host.json telemetryMode): the Python worker exports its own spans, metrics and
  // logs (the host then drops the log lines it used to forward); OTEL_SERVICE_NAME is the
  // worker's cloud_RoleName in Application Insights.
  PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY: 'true'
  OTEL_SERVICE_NAME: 'skillsync-lessons'
  // Sampling: in OpenTelemetry mode the host ignores host.json samplingSettings, so the worker's
  // spans are sampled by azure-monitor-opentelemetry's rate-limited sampler (its own default,
  // made explicit and tunable). Metrics, which the alerts read, are never sampled.
  OTEL_TRACES_SAMPLER: 'microsoft.rate_limited'
  OTEL_TRACES_SAMPLER_ARG: traceSamplesPerSecond
}

var plainSettings = [for setting in items(union(hostSettings, appSettings)): {
  name: setting.key
  value: setting.value
}]

// No version in the reference: the app follows the latest version of each secret.
var keyVaultReferences = [for setting in items(keyVaultSecretSettings): {
  name: setting.key
  value: '@Microsoft.KeyVault(VaultName=${keyVaultName};SecretName=${setting.value})'
}]

resource plan 'Microsoft.Web/serverfarms@2024-11-01' = {
  // checkov:skip=CKV_AZURE_225: zone redundancy for Flex Consumption is offered only in some regions; left off so the template deploys in any region (state lives in Cosmos DB and Storage)
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
  }
}

resource app 'Microsoft.Web/sites@2024-11-01' = {
  // checkov:skip=CKV_AZURE_222: a public API: browsers and the frontend call it over the internet, authenticated by Entra ID bearer tokens
  // checkov:skip=CKV_AZURE_17: callers authenticate with bearer tokens; browsers cannot present client certificates
  // checkov:skip=CKV_AZURE_212: Flex Consumption scales to zero; always-ready instances would cost money at rest
  // checkov:skip=CKV_AZURE_213: a platform health probe every minute would keep an instance running; GET /api/health serves external probes instead
  name: name
  location: location
  tags: union(tags, {
    'azd-service-name': serviceName
  })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    keyVaultReferenceIdentity: identityId
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
      appSettings: concat(plainSettings, keyVaultReferences)
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: deploymentContainerUrl
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
        triggers: {
          http: {
            perInstanceConcurrency: httpPerInstanceConcurrency
          }
        }
      }
      runtime: {
        name: 'python'
        version: '3.11'
      }
    }
  }
}

// Deployments go through Entra ID (azd signs in); publishing with a user name and password is off.
resource ftpCredentials 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-11-01' = {
  parent: app
  name: 'ftp'
  properties: {
    allow: false
  }
}

resource scmCredentials 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-11-01' = {
  parent: app
  name: 'scm'
  properties: {
    allow: false
  }
}

output name string = app.name
output defaultHostName string = app.properties.defaultHostName
