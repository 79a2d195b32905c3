// Log alerts on what the app reports (domain/telemetry.py) and on the host's HTTP requests, and
// the action group they notify. Every query runs against the Application Insights resource
// (tables customMetrics and requests), not the workspace (AppMetrics, AppRequests).
//
// OpenTelemetry metrics reach customMetrics pre-aggregated: one row per export interval (60 s)
// and attribute set, with valueSum and valueCount (a counter's increase is its valueSum; a
// histogram also has valueMin and valueMax). Metrics are never sampled, so these counts are
// exact; requests are summed by itemCount in case sampling is ever turned on for them.
// docs/operations.md says what each alert means and what to do.

@description('Prefix of the alert rule names (the resource group holds one environment).')
param namePrefix string

@description('Short name of the action group as notifications show it (at most 12 characters).')
@maxLength(12)
param actionGroupShortName string = 'skillsync'

@description('Azure region of the alert rules (that of Application Insights).')
param location string

@description('Tags for every resource.')
param tags object = {}

@description('Resource id of the Application Insights component the queries read.')
param applicationInsightsId string

@description('Email address that receives the alerts; empty for none (the rules still fire and show in the portal).')
param alertEmail string = ''

@description('Failed lessons as a percentage of finished lessons (failed + completed) over 15 minutes that raises an alert.')
@minValue(1)
@maxValue(100)
param failedLessonPercentThreshold int = 20

@description('95th percentile of time-to-lesson (request to completed) in milliseconds over 15 minutes that raises an alert.')
@minValue(1000)
param timeToLessonP95ThresholdMs int = 60000

@description('Lessons written by a fallback provider as a percentage of completed lessons over 15 minutes that raises an alert.')
@minValue(1)
@maxValue(100)
param fallbackPercentThreshold int = 50

@description('HTTP responses 5xx as a percentage of requests over 15 minutes that raises an alert.')
@minValue(1)
@maxValue(100)
param serverErrorPercentThreshold int = 5

@description('Fewest finished lessons in the window before the rate and percentile alerts judge it (one failure of one lesson is not a rate).')
@minValue(1)
param minimumLessons int = 5

@description('Fewest HTTP requests in the window before the 5xx rate alert judges it.')
@minValue(1)
param minimumRequests int = 20

var window = 'PT15M'
var frequency = 'PT5M'

// Each query ends in one row with one measure column, compared with the rule's threshold; no
// row (too little traffic) means no alert.
var failedLessonsQuery = '''
customMetrics
| where name in ("skillsync.lessons.failed", "skillsync.lessons.completed")
| summarize failed = sumif(valueSum, name == "skillsync.lessons.failed"),
            completed = sumif(valueSum, name == "skillsync.lessons.completed")
| where failed + completed >= minimum
| project failedPercent = 100.0 * failed / (failed + completed)
'''

var poisonedLessonsQuery = '''
customMetrics
| where name == "skillsync.lessons.poisoned"
| summarize poisoned = sum(valueSum)
'''

// Percentiles of single values are lost in the pre-aggregated rows; the weighted percentile of
// each row's maximum is an upper bound of the true p95 (exact when a row holds one lesson).
var timeToLessonQuery = '''
customMetrics
| where name == "skillsync.lesson.time_to_lesson"
| extend slowest = coalesce(valueMax, valueSum / valueCount)
| summarize lessons = sum(valueCount), p95Ms = percentilew(slowest, valueCount, 95)
| where lessons >= minimum
| project p95Ms
'''

var fallbacksQuery = '''
customMetrics
| where name in ("skillsync.lessons.fallbacks", "skillsync.lessons.completed")
| summarize fallbacks = sumif(valueSum, name == "skillsync.lessons.fallbacks"),
            completed = sumif(valueSum, name == "skillsync.lessons.completed")
| where completed >= minimum
| project fallbackPercent = 100.0 * fallbacks / completed
'''

var serverErrorsQuery = '''
requests
| summarize total = sum(itemCount), failed = sumif(itemCount, resultCode startswith "5")
| where total >= minimum
| project serverErrorPercent = 100.0 * failed / total
'''

var lessonsMinimum = 'let minimum = ${minimumLessons};\n'

// key: the rule's name after the prefix, which tests and the runbook refer to.
var rules = [
  {
    key: 'failed-lessons'
    displayName: 'SkillSync: failed-lesson rate'
    description: 'More than the threshold percentage of finished lessons failed in 15 minutes (skillsync.lessons.failed against skillsync.lessons.completed).'
    severity: 2
    query: '${lessonsMinimum}${failedLessonsQuery}'
    measure: 'failedPercent'
    threshold: failedLessonPercentThreshold
  }
  {
    key: 'poisoned-lessons'
    displayName: 'SkillSync: poisoned lesson'
    description: 'A lesson message reached lesson-generation-poison after every delivery failed (skillsync.lessons.poisoned).'
    severity: 2
    query: poisonedLessonsQuery
    measure: 'poisoned'
    threshold: 0
  }
  {
    key: 'slow-lessons'
    displayName: 'SkillSync: p95 time-to-lesson'
    description: 'The 95th percentile of time from request to completed lesson exceeded the threshold in 15 minutes (skillsync.lesson.time_to_lesson, ms).'
    severity: 3
    query: '${lessonsMinimum}${timeToLessonQuery}'
    measure: 'p95Ms'
    threshold: timeToLessonP95ThresholdMs
  }
  {
    key: 'fallback-ratio'
    displayName: 'SkillSync: fallback-provider ratio'
    description: 'More than the threshold percentage of completed lessons came from a fallback provider in 15 minutes (skillsync.lessons.fallbacks against skillsync.lessons.completed).'
    severity: 3
    query: '${lessonsMinimum}${fallbacksQuery}'
    measure: 'fallbackPercent'
    threshold: fallbackPercentThreshold
  }
  {
    key: 'http-5xx'
    displayName: 'SkillSync: HTTP 5xx rate'
    description: 'More than the threshold percentage of HTTP requests answered 5xx in 15 minutes (requests, resultCode 5xx).'
    severity: 1
    query: 'let minimum = ${minimumRequests};\n${serverErrorsQuery}'
    measure: 'serverErrorPercent'
    threshold: serverErrorPercentThreshold
  }
]

// Always created, so receivers (SMS, a webhook, Teams) can be added later in the portal.
resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = {
  name: '${namePrefix}-operators'
  location: 'global'
  tags: tags
  properties: {
    groupShortName: actionGroupShortName
    enabled: true
    emailReceivers: empty(alertEmail) ? [] : [
      {
        name: 'operators'
        emailAddress: alertEmail
        useCommonAlertSchema: true
      }
    ]
  }
}

resource alertRules 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = [for rule in rules: {
  name: '${namePrefix}-${rule.key}'
  location: location
  tags: tags
  kind: 'LogAlert'
  properties: {
    displayName: rule.displayName
    description: rule.description
    severity: rule.severity
    enabled: true
    scopes: [
      applicationInsightsId
    ]
    evaluationFrequency: frequency
    windowSize: window
    criteria: {
      allOf: [
        {
          query: rule.query
          timeAggregation: 'Maximum'
          metricMeasureColumn: rule.measure
          operator: 'GreaterThan'
          threshold: rule.threshold
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    autoMitigate: true
    actions: {
      actionGroups: [
        actionGroup.id
      ]
    }
  }
}]

output actionGroupId string = actionGroup.id
