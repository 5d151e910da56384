"""The Log Analytics / Sentinel tables read as native records: column -> native field path.

Column names are those of Microsoft's Azure Monitor table reference (AzureDiagnostics, for
Cognitive Services and API Management, ApiManagementGatewayLogs, ApiManagementGatewayLlmLog,
AzureActivity, AWSCloudTrail); docs/events.md lists the mappings.
Columns that the native parsers read are mapped, plus the ids that tell records apart.
Azure ``properties`` text (``properties_s``, ``Properties``) is passed on as text: the native
parsers decode it themselves and reject what is not JSON (``invalid properties``).
"""

from __future__ import annotations

from types import MappingProxyType

from stormwatch.events.parsers.azure_activity import SOURCE as AZURE_ACTIVITY_SOURCE
from stormwatch.events.parsers.azure_apim import GATEWAY_CATEGORY, LLM_CATEGORY
from stormwatch.events.parsers.azure_apim import SOURCE as AZURE_APIM_SOURCE
from stormwatch.events.parsers.azure_fields import AZURE_CATEGORIES
from stormwatch.events.parsers.azure_openai import SOURCE as AZURE_OPENAI_SOURCE
from stormwatch.events.parsers.cloudtrail import SOURCE as CLOUDTRAIL_SOURCE
from stormwatch.events.parsers.log_analytics import TableShape


def _azure_diagnostics(
    source: str, categories: frozenset[str], columns: dict[str, str]
) -> TableShape:
    """The rows of the shared ``AzureDiagnostics`` table (Azure diagnostics mode) whose
    ``Category`` is one of ``categories``: the columns every service has, then ``columns``."""
    shared = {
        "TimeGenerated": "time",
        "ResourceId": "resourceId",
        "_ResourceId": "resourceId",
        "Category": "category",
        "OperationName": "operationName",
        "CallerIPAddress": "callerIpAddress",
        "CorrelationId": "correlationId",
        "location_s": "location",
    }
    return TableShape(
        table="AzureDiagnostics",
        source=source,
        marker=("Category", "OperationName"),
        accepted=(("Category", categories),),
        columns=MappingProxyType(shared | columns),
    )


# Cognitive Services resource logs.
AZURE_DIAGNOSTICS = _azure_diagnostics(
    AZURE_OPENAI_SOURCE,
    AZURE_CATEGORIES,
    {
        "ResultType": "resultType",
        "ResultSignature": "resultSignature",
        "DurationMs": "durationMs",
        "properties_s": "properties",
    },
)

# API Management gateway logs in their resource-specific table.
API_MANAGEMENT_GATEWAY_LOGS = TableShape(
    table="ApiManagementGatewayLogs",
    source=AZURE_APIM_SOURCE,
    marker=("Url", "ResponseCode"),
    columns=MappingProxyType(
        {
            "TimeGenerated": "time",
            "_ResourceId": "resourceId",
            "Category": "category",
            "OperationName": "operationName",
            "CallerIpAddress": "callerIpAddress",
            "CorrelationId": "correlationId",
            "Region": "location",
            "TotalTime": "durationMs",
            "Method": "properties.method",
            "Url": "properties.url",
            "ResponseCode": "properties.responseCode",
            "BackendResponseCode": "properties.backendResponseCode",
            "RequestSize": "properties.requestSize",
            "ResponseSize": "properties.responseSize",
            "ApiId": "properties.apiId",
            "OperationId": "properties.operationId",
            "ApimSubscriptionId": "properties.apimSubscriptionId",
            "RequestHeaders": "properties.requestHeaders",
            "RequestBody": "properties.requestBody",
            "ResponseBody": "properties.responseBody",
            "BackendRequestBody": "properties.backendRequestBody",
            "BackendResponseBody": "properties.backendResponseBody",
            "LastErrorReason": "properties.lastErrorReason",
        }
    ),
    json_columns=frozenset({"RequestHeaders"}),
)

# API Management logs: the gateway's properties flattened into typed columns (``url_s``,
# ``responseCode_d``). Bodies and headers are not there.
AZURE_DIAGNOSTICS_APIM = _azure_diagnostics(
    AZURE_APIM_SOURCE,
    frozenset({GATEWAY_CATEGORY, LLM_CATEGORY}),
    {
        "Region_s": "location",
        "totalTime_d": "durationMs",
        "method_s": "properties.method",
        "url_s": "properties.url",
        "responseCode_d": "properties.responseCode",
        "backendResponseCode_d": "properties.backendResponseCode",
        "requestSize_d": "properties.requestSize",
        "responseSize_d": "properties.responseSize",
        "apiId_s": "properties.apiId",
        "operationId_s": "properties.operationId",
        "apimSubscriptionId_s": "properties.apimSubscriptionId",
        "lastError_reason_s": "properties.lastErrorReason",
        "deploymentName_s": "properties.deploymentName",
        "modelName_s": "properties.modelName",
        "promptTokens_d": "properties.promptTokens",
        "completionTokens_d": "properties.completionTokens",
        "sequenceNumber_d": "properties.sequenceNumber",
    },
)

# API Management's LLM gateway logs: one table, one category, and no Category column.
API_MANAGEMENT_GATEWAY_LLM_LOG = TableShape(
    table="ApiManagementGatewayLlmLog",
    source=AZURE_APIM_SOURCE,
    marker=("SequenceNumber",),
    columns=MappingProxyType(
        {
            "TimeGenerated": "time",
            "_ResourceId": "resourceId",
            "OperationName": "operationName",
            "CorrelationId": "correlationId",
            "Region": "location",
            "SequenceNumber": "properties.sequenceNumber",
            "ApiVersion": "properties.apiVersion",
            "DeploymentName": "properties.deploymentName",
            "ModelName": "properties.modelName",
            "PromptTokens": "properties.promptTokens",
            "CompletionTokens": "properties.completionTokens",
            "TotalTokens": "properties.totalTokens",
            "IsStreamCompletion": "properties.isStreamCompletion",
            "RequestId": "properties.requestId",
        }
    ),
    constants=(("category", LLM_CATEGORY),),
)

# The Activity Log as Log Analytics stores it (``*Value`` columns hold the non-localized names).
AZURE_ACTIVITY = TableShape(
    table="AzureActivity",
    source=AZURE_ACTIVITY_SOURCE,
    marker=("OperationNameValue",),
    columns=MappingProxyType(
        {
            "TimeGenerated": "time",
            "ResourceId": "resourceId",
            "_ResourceId": "resourceId",
            "OperationNameValue": "operationName",
            "CategoryValue": "category",
            "Category": "category",
            "ActivityStatusValue": "resultType",
            "ActivitySubstatusValue": "subStatus",
            "Caller": "caller",
            "CallerIpAddress": "callerIpAddress",
            "HTTPRequest": "httpRequest",
            "Claims": "identity.claims",
            "Claims_d": "identity.claims",
            "Authorization": "identity.authorization",
            "Authorization_d": "identity.authorization",
            "Properties": "properties",
            "Properties_d": "properties",
            "Level": "level",
            "CorrelationId": "correlationId",
            "EventDataId": "eventDataId",
        }
    ),
    json_columns=frozenset(
        {"HTTPRequest", "Claims", "Claims_d", "Authorization", "Authorization_d"}
    ),
)

# Sentinel's AWS connector: CloudTrail events with userIdentity and tlsDetails flattened.
AWS_CLOUDTRAIL = TableShape(
    table="AWSCloudTrail",
    source=CLOUDTRAIL_SOURCE,
    marker=("EventSource", "EventName"),
    columns=MappingProxyType(
        {
            "TimeGenerated": "eventTime",
            "EventVersion": "eventVersion",
            "EventSource": "eventSource",
            "EventName": "eventName",
            "EventTypeName": "eventType",
            "AWSRegion": "awsRegion",
            "SourceIpAddress": "sourceIPAddress",
            "UserAgent": "userAgent",
            "ErrorCode": "errorCode",
            "ErrorMessage": "errorMessage",
            "RequestParameters": "requestParameters",
            "RecipientAccountId": "recipientAccountId",
            "ReadOnly": "readOnly",
            "AwsEventId": "eventID",
            "AwsRequestId_": "requestID",
            "UserIdentityType": "userIdentity.type",
            "UserIdentityPrincipalid": "userIdentity.principalId",
            "UserIdentityArn": "userIdentity.arn",
            "UserIdentityAccountId": "userIdentity.accountId",
            "UserIdentityAccessKeyId": "userIdentity.accessKeyId",
            "UserIdentityUserName": "userIdentity.userName",
            "UserIdentityInvokedBy": "userIdentity.invokedBy",
            "ClientProvidedHostHeader": "tlsDetails.clientProvidedHostHeader",
        }
    ),
    json_columns=frozenset({"RequestParameters"}),
)

# In order: a row is read by the first shape it matches, and the resource-specific API
# Management tables also have Category and OperationName columns.
TABLES: tuple[TableShape, ...] = (
    AZURE_DIAGNOSTICS,
    API_MANAGEMENT_GATEWAY_LOGS,
    API_MANAGEMENT_GATEWAY_LLM_LOG,
    AZURE_DIAGNOSTICS_APIM,
    AZURE_ACTIVITY,
    AWS_CLOUDTRAIL,
)
