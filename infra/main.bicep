// SkillSync Lessons on Azure: `azd up` provisions this, then deploys the app to the function app
// tagged azd-service-name 'api'. One resource group per azd environment; every connection between
// the resources is made with the app's user-assigned identity, never with a key.
targetScope = 'subscription'

@description('Name of the azd environment; names the resource group and seeds resource names.')
@minLength(1)
@maxLength(64)
param environmentName string

@description('Azure region for every resource.')
@minLength(1)
param location string

@description('Object id of the developer running azd (AZURE_PRINCIPAL_ID): granted the same data roles as the app, so `python -m ops` runs with their login. Empty for none.')
param principalId string = ''

@description('Kind of principalId: User, or ServicePrincipal when a pipeline deploys.')
@allowed([
  'User'
  'Group'
  'ServicePrincipal'
])
param principalType string = 'User'

@description('Name of the Cosmos DB database (COSMOS_DATABASE).')
param cosmosDatabaseName string = 'skillsync'

@description('Audience that access tokens must carry (AUTH_AUDIENCE): the client id, or Application ID URI, of the API\'s Entra ID app registration.')
@minLength(1)
param authAudience string

@description('Issuer that access tokens must carry (AUTH_ISSUER); empty for the v2.0 issuer of the tenant being deployed to.')
param authIssuer string = ''

@description('Key set (JWKS) URL of the identity provider (AUTH_JWKS_URL); empty for the tenant being deployed to.')
param authJwksUrl string = ''

@description('Browser origins allowed to call the API, comma-separated (CORS_ALLOWED_ORIGINS); empty for none.')
param corsAllowedOrigins string = ''

@description('NCRONTAB schedule of the stuck-lesson sweeper (SWEEP_SCHEDULE).')
param sweepSchedule string = '0 */1 * * * *'

@description('Refuse to start without a language-model provider key (REQUIRE_LLM_PROVIDER); false lets the offline provider write lessons.')
param requireLlmProvider bool = true

@description('Providers to try, in order (LLM_PROVIDERS).')
param llmProviders string = 'groq,gemini,qwen,offline'

@description('Groq model (GROQ_MODEL).')
param groqModel string = 'llama-3.3-70b-versatile'

@description('Gemini model (GEMINI_MODEL).')
param geminiModel string = 'gemini-2.5-flash'

@description('Qwen model on DashScope (QWEN_MODEL).')
param qwenModel string = 'qwen-plus'

@description('Groq API key, stored in Key Vault; empty for none.')
@secure()
param groqApiKey string = ''

@description('Gemini API key, stored in Key Vault; empty for none.')
@secure()
param geminiApiKey string = ''

@description('Qwen (DashScope) API key, stored in Key Vault; empty for none.')
@secure()
param qwenApiKey string = ''

@description('YouTube Data API key for research, stored in Key Vault; empty for none.')
@secure()
param youtubeApiKey string = ''

@description('GitHub token for research (higher search limits), stored in Key Vault; empty for none.')
@secure()
param githubToken string = ''

@description('Stack Exchange key for research (higher daily quota), stored in Key Vault; empty for none.')
@secure()
param stackexchangeKey string = ''

@description('Most instances the function app may scale out to (40-1000).')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('Memory of each function app instance in MB.')
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

@description('Web PubSub tier for lesson notifications: Free_F1 (20 connections, 20,000 messages a day) or Standard_S1 / Premium_P1.')
@allowed([
  'Free_F1'
  'Standard_S1'
  'Premium_P1'
])
param webPubSubSku string = 'Free_F1'

@description('Key Vault purge protection. Cannot be turned off again; turn it off only for throwaway environments.')
param keyVaultPurgeProtection bool = true

@description('Public network access to Key Vault.')
@allowed([
  'Enabled'
  'Disabled'
])
param keyVaultPublicNetworkAccess string = 'Enabled'

@description('Daily Log Analytics ingestion cap in GB; -1 for none.')
param logDailyQuotaGb int = 1

@description('Traces per second the Python worker keeps (rate-limited sampling of its spans; metrics, which the alerts read, are never sampled).')
param traceSamplesPerSecond string = '1'

@description('Email address that receives the alerts (ALERT_EMAIL); empty for none: the alerts still fire and show in the portal.')
param alertEmail string = ''

@description('Alert when more than this percentage of finished lessons failed in 15 minutes.')
@minValue(1)
@maxValue(100)
param alertFailedLessonPercent int = 20

@description('Alert when the 95th percentile of time-to-lesson over 15 minutes exceeds this many milliseconds.')
@minValue(1000)
param alertTimeToLessonP95Ms int = 60000

@description('Alert when more than this percentage of completed lessons came from a fallback provider in 15 minutes.')
@minValue(1)
@maxValue(100)
param alertFallbackPercent int = 50

@description('Alert when more than this percentage of HTTP requests answered 5xx in 15 minutes.')
@minValue(1)
@maxValue(100)
param alertServerErrorPercent int = 5

var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = {
  'azd-env-name': environmentName
}
var entraAuthority = '${environment().authentication.loginEndpoint}${tenant().tenantId}'
var keyVaultName = 'kv-${resourceToken}'
var deploymentContainerName = 'app-package'

// App setting <- Key Vault secret, for each key given a value. A setting is added only with its
// secret, so the app never holds a reference to a secret that does not exist.
var secretSettings = union(empty(groqApiKey) ? {} : { GROQ_API_KEY: 'groq-api-key' },
  empty(geminiApiKey) ? {} : { GEMINI_API_KEY: 'gemini-api-key' },
  empty(qwenApiKey) ? {} : { QWEN_API_KEY: 'qwen-api-key' },
  empty(youtubeApiKey) ? {} : { YOUTUBE_API_KEY: 'youtube-api-key' },
  empty(githubToken) ? {} : { GITHUB_TOKEN: 'github-token' },
  empty(stackexchangeKey) ? {} : { STACKEXCHANGE_KEY: 'stackexchange-key' })
var secretNames = [for setting in items(secretSettings): setting.value]

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: 'rg-${environmentName}'
  location: location
  tags: tags
}

module identity 'core/identity.bicep' = {
  name: 'identity'
  scope: rg
  params: {
    name: 'id-${resourceToken}'
    location: location
    tags: tags
  }
}

module monitoring 'core/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    logAnalyticsName: 'log-${resourceToken}'
    applicationInsightsName: 'appi-${resourceToken}'
    location: location
    tags: tags
    dailyQuotaGb: logDailyQuotaGb
    identityPrincipalId: identity.outputs.principalId
  }
}

module storage 'core/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    name: 'st${resourceToken}'
    location: location
    tags: tags
    queueNames: [
      'lesson-generation'
      'lesson-generation-poison'
    ]
    deploymentContainerName: deploymentContainerName
    identityPrincipalId: identity.outputs.principalId
    developerPrincipalId: principalId
    developerPrincipalType: principalType
  }
}

module cosmos 'core/cosmos.bicep' = {
  name: 'cosmos'
  scope: rg
  params: {
    name: 'cosmos-${resourceToken}'
    location: location
    tags: tags
    identityPrincipalId: identity.outputs.principalId
    developerPrincipalId: principalId
  }
}

module database 'app/database.bicep' = {
  name: 'database'
  scope: rg
  params: {
    accountName: cosmos.outputs.name
    databaseName: cosmosDatabaseName
  }
}

module keyVault 'core/keyvault.bicep' = {
  name: 'keyvault'
  scope: rg
  params: {
    name: keyVaultName
    location: location
    tags: tags
    enablePurgeProtection: keyVaultPurgeProtection
    publicNetworkAccess: keyVaultPublicNetworkAccess
    secrets: {
      'groq-api-key': groqApiKey
      'gemini-api-key': geminiApiKey
      'qwen-api-key': qwenApiKey
      'youtube-api-key': youtubeApiKey
      'github-token': githubToken
      'stackexchange-key': stackexchangeKey
    }
    secretNames: secretNames
    identityPrincipalId: identity.outputs.principalId
    developerPrincipalId: principalId
    developerPrincipalType: principalType
  }
}

module webPubSub 'core/webpubsub.bicep' = {
  name: 'webpubsub'
  scope: rg
  params: {
    name: 'wps-${resourceToken}'
    location: location
    tags: tags
    sku: webPubSubSku
    identityPrincipalId: identity.outputs.principalId
    developerPrincipalId: principalId
    developerPrincipalType: principalType
  }
}

module api 'app/functionapp.bicep' = {
  name: 'api'
  scope: rg
  params: {
    name: 'func-${resourceToken}'
    planName: 'plan-${resourceToken}'
    location: location
    tags: tags
    serviceName: 'api'
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    storageAccountName: storage.outputs.name
    deploymentContainerUrl: storage.outputs.deploymentContainerUrl
    applicationInsightsConnectionString: monitoring.outputs.connectionString
    // The module output (not the name computed above) makes the app wait for the secrets and for
    // the identity's Key Vault role, so its references resolve on first start.
    keyVaultName: keyVault.outputs.name
    keyVaultSecretSettings: secretSettings
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
    httpPerInstanceConcurrency: httpPerInstanceConcurrency
    traceSamplesPerSecond: traceSamplesPerSecond
    appSettings: {
      COSMOS_ENDPOINT: cosmos.outputs.endpoint
      COSMOS_DATABASE: database.outputs.name
      AUTH_JWKS_URL: empty(authJwksUrl) ? '${entraAuthority}/discovery/v2.0/keys' : authJwksUrl
      AUTH_ISSUER: empty(authIssuer) ? '${entraAuthority}/v2.0' : authIssuer
      AUTH_AUDIENCE: authAudience
      AUTH_DEV_TOKENS: 'false'
      CORS_ALLOWED_ORIGINS: corsAllowedOrigins
      SWEEP_SCHEDULE: sweepSchedule
      REQUIRE_LLM_PROVIDER: requireLlmProvider ? 'true' : 'false'
      LLM_PROVIDERS: llmProviders
      GROQ_MODEL: groqModel
      GEMINI_MODEL: geminiModel
      QWEN_MODEL: qwenModel
      // Keyless: the app signs in to Web PubSub as its identity (no connection string in Azure).
      WEBPUBSUB_ENDPOINT: webPubSub.outputs.endpoint
      WEBPUBSUB_HUB: webPubSub.outputs.hubName
    }
  }
}

module alerts 'app/alerts.bicep' = {
  name: 'alerts'
  scope: rg
  params: {
    namePrefix: 'alert-${resourceToken}'
    location: location
    tags: tags
    applicationInsightsId: monitoring.outputs.applicationInsightsId
    alertEmail: alertEmail
    failedLessonPercentThreshold: alertFailedLessonPercent
    timeToLessonP95ThresholdMs: alertTimeToLessonP95Ms
    fallbackPercentThreshold: alertFallbackPercent
    serverErrorPercentThreshold: alertServerErrorPercent
  }
}

module workbook 'app/workbook.bicep' = {
  name: 'workbook'
  scope: rg
  params: {
    location: location
    tags: tags
    applicationInsightsId: monitoring.outputs.applicationInsightsId
  }
}

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = api.outputs.name
output API_URL string = 'https://${api.outputs.defaultHostName}/api'
output COSMOS_ENDPOINT string = cosmos.outputs.endpoint
output COSMOS_DATABASE string = database.outputs.name
output AZURE_KEY_VAULT_NAME string = keyVault.outputs.name
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name
output WEBPUBSUB_ENDPOINT string = webPubSub.outputs.endpoint
output APPLICATIONINSIGHTS_CONNECTION_STRING string = monitoring.outputs.connectionString
