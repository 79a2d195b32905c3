// The operators' Azure Monitor workbook: the generation pipeline from HTTP request to lesson
// (requests, queue wait and depth, generation by provider, outcomes, tokens), read from the
// Application Insights resource. Its content is workbook.json, exported as the portal's
// Advanced editor shows it; the placeholder in fallbackResourceIds becomes this deployment's
// Application Insights, so the workbook opens on it from the gallery too.

@description('Name of the workbook in the portal.')
param displayName string = 'SkillSync Lessons: pipeline'

@description('Azure region (that of Application Insights).')
param location string

@description('Tags for the workbook.')
param tags object = {}

@description('Resource id of the Application Insights component the workbook reads.')
param applicationInsightsId string

var content = replace(loadTextContent('workbook.json'), '__APPLICATION_INSIGHTS_ID__', applicationInsightsId)

resource workbook 'Microsoft.Insights/workbooks@2023-06-01' = {
  // A workbook's name must be a GUID; derived from the component, so redeploying updates it.
  name: guid(applicationInsightsId, 'skillsync-pipeline-workbook')
  location: location
  tags: tags
  kind: 'shared'
  properties: {
    displayName: displayName
    category: 'workbook'
    sourceId: toLower(applicationInsightsId)
    serializedData: content
    version: 'Notebook/1.0'
  }
}

output id string = workbook.id
