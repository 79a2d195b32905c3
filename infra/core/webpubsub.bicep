// Azure Web PubSub: the push channel that tells learners' pages when their lessons change status.
// Local (access key) authentication is off: the app signs in as its identity, which holds Web
// PubSub Service Owner below (send to a user, issue client tokens); pages connect with the
// short-lived client tokens the app hands out (POST /api/notifications/negotiate).

@description('Name of the Web PubSub service.')
param name string

@description('Azure region.')
param location string

@description('Tags for the service.')
param tags object = {}

@description('Pricing tier: Free_F1 (20 connections, 20,000 messages a day, no SLA) or a paid tier for real traffic.')
@allowed([
  'Free_F1'
  'Standard_S1'
  'Premium_P1'
])
param sku string = 'Free_F1'

@description('Hub the lesson notifications go through (WEBPUBSUB_HUB).')
param hubName string = 'lessons'

@description('Principal id of the app identity, granted Web PubSub Service Owner.')
param identityPrincipalId string

@description('Principal id of the developer who deploys, granted the same role; empty for none.')
param developerPrincipalId string = ''

@description('Kind of developerPrincipalId: User, Group or ServicePrincipal.')
param developerPrincipalType string = 'User'

// Web PubSub Service Owner: the data-plane REST API (send, generate client tokens); no control plane.
var serviceOwnerRole = '12cf5a90-567b-43ae-8102-96cf46c7d9b4'

resource service 'Microsoft.SignalRService/webPubSub@2024-03-01' = {
  // checkov:skip=CKV_AZURE_175: the free tier is the default so an idle environment costs nothing; the sku parameter selects a tier with an SLA
  // checkov:skip=CKV_AZURE_176: the service calls no upstream (no event handlers), so it needs no identity of its own; the app reaches it with the app's identity
  name: name
  location: location
  tags: tags
  sku: {
    name: sku
    capacity: 1
  }
  kind: 'WebPubSub'
  properties: {
    disableLocalAuth: true
    disableAadAuth: false
    publicNetworkAccess: 'Enabled'
    tls: {
      clientCertEnabled: false
    }
  }
}

// Pages only listen: anonymous connections are refused and no event reaches the app.
resource hub 'Microsoft.SignalRService/webPubSub/hubs@2024-03-01' = {
  parent: service
  name: hubName
  properties: {
    anonymousConnectPolicy: 'deny'
    eventHandlers: []
  }
}

resource identityServiceOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: service
  name: guid(service.id, identityPrincipalId, serviceOwnerRole)
  properties: {
    principalId: identityPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', serviceOwnerRole)
  }
}

resource developerServiceOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(developerPrincipalId)) {
  scope: service
  name: guid(service.id, developerPrincipalId, serviceOwnerRole)
  properties: {
    principalId: developerPrincipalId
    principalType: developerPrincipalType
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', serviceOwnerRole)
  }
}

output name string = service.name
output endpoint string = 'https://${service.properties.hostName}'
output hubName string = hub.name
