"""The parsers against AWS's own documented records: CloudTrail events of Amazon Bedrock and IAM,
and Bedrock model-invocation logs, as the AWS pages (and AWS's sample repositories) print them.

Records are kept as the pages' JSON text (field names, nesting, value types, placeholder
identities), compacted onto fewer lines. Access key ids are made at run time (``$key``), never
written here. Where a page prints only part of a record, the comment says what filled the rest.
"""

from __future__ import annotations

import copy
import gzip
import json
import secrets
import string
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from stormwatch.cli.app import app
from stormwatch.events import PARSERS, Event, EventStore, Location, detect_source, ingest_files

Record = dict[str, Any]
BASE32 = string.ascii_uppercase + "234567"
WHERE = Location("documented.json.gz", 1, in_array=True)
USERXYZ = "arn:aws:iam::111122223333:user/userxyz"
ALICE = "arn:aws:iam::123456789012:user/Alice"
BEDROCK = "bedrock.amazonaws.com"
BOTO3 = (
    "Boto3/1.28.62 md/Botocore#1.31.62 ua/2.0 os/macos#22.6.0 md/arch#arm64 lang/python#3.9.6 "
    "md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.31.62"
)


def key_id(prefix: str) -> str:
    """An access key id of the documented form (``AKIA``/``ASIA`` + 16 base32), made now."""
    return prefix + "".join(secrets.choice(BASE32) for _ in range(16))


def documented(text: str, **values: str) -> Record:
    """A documented record from its JSON text, ``$names`` filled (generated key ids)."""
    record: Record = json.loads(string.Template(text).substitute(values))
    return record


def parsed(record: Record) -> Event:
    """The record as the auto-detected parser normalizes it; no notes expected."""
    source = detect_source(record)
    assert source is not None, sorted(record)
    event, problems = PARSERS[source].parse(record, WHERE)
    assert event is not None and problems == (), problems
    return event


def expect(event: Event, **expected: Any) -> None:
    """The event's columns named in ``expected`` hold those values."""
    assert {name: getattr(event, name) for name in expected} == expected


# --- CloudTrail ------------------------------------------------------------------------------

# https://docs.aws.amazon.com/bedrock/latest/userguide/logging-using-cloudtrail.html
# ("Understanding Amazon Bedrock log file entries"): the InvokeModel example, verbatim (eventID's
# trailing space too). The page logs InvokeModel(WithResponseStream) and Converse(Stream) alike,
# as management events.
INVOKE_MODEL = """{"eventVersion": "1.08",
"userIdentity": {"type": "IAMUser", "principalId": "AROAICFHPEXAMPLE",
  "arn": "arn:aws:iam::111122223333:user/userxyz", "accountId": "111122223333",
  "accessKeyId": "$key", "userName": "userxyz"},
"eventTime": "2023-10-11T21:58:59Z", "eventSource": "bedrock.amazonaws.com",
"eventName": "InvokeModel", "awsRegion": "us-west-2", "sourceIPAddress": "192.0.2.0",
"userAgent": "Boto3/1.28.62 md/Botocore#1.31.62 ua/2.0 os/macos#22.6.0 md/arch#arm64 lang/python#3.9.6 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.31.62",
"requestParameters": {"modelId": "stability.stable-diffusion-xl-v0"}, "responseElements": null,
"requestID": "a1b2c3d4-5678-90ab-cdef-EXAMPLE22222",
"eventID": "a1b2c3d4-5678-90ab-cdef-EXAMPLE11111 ", "readOnly": false,
"eventType": "AwsApiCall", "managementEvent": true, "recipientAccountId": "111122223333",
"eventCategory": "Management", "tlsDetails": {"tlsVersion": "TLSv1.2",
  "cipherSuite": "cipher suite", "clientProvidedHostHeader": "bedrock-runtime.us-west-2.amazonaws.com"}}"""  # noqa: E501

# https://docs.aws.amazon.com/bedrock/latest/userguide/logging-cloudtrail-mantle.html
# ("Example log entry"): CreateInference, a data event, verbatim.
MANTLE_INFERENCE = """{"eventVersion": "1.08",
"userIdentity": {"type": "IAMUser", "principalId": "AROAICFHPEXAMPLE",
  "arn": "arn:aws:iam::111122223333:user/userxyz", "accountId": "111122223333",
  "accessKeyId": "$key", "userName": "userxyz"},
"eventTime": "2026-05-30T14:32:11Z", "eventSource": "bedrock-mantle.amazonaws.com",
"eventName": "CreateInference", "awsRegion": "us-east-1", "sourceIPAddress": "192.0.2.0",
"userAgent": "OpenAI/Python 1.50.0",
"requestParameters": {"model": "anthropic.claude-opus-4-7", "stream": true,
  "service_tier": "default", "metadata": {"team": "platform"}, "callWithBearerToken": true,
  "bearerTokenType": "ABSK"},
"responseElements": null, "requestID": "a1b2c3d4-5678-90ab-cdef-EXAMPLE22222",
"eventID": "a1b2c3d4-5678-90ab-cdef-EXAMPLE11111", "readOnly": false,
"eventType": "AwsApiCall", "managementEvent": false, "recipientAccountId": "111122223333",
"eventCategory": "Data", "resources": [{"accountId": "111122223333",
  "type": "AWS::BedrockMantle::Project",
  "ARN": "arn:aws:bedrock-mantle:us-east-1:111122223333:project/proj_abc123"}],
"tlsDetails": {"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256",
  "clientProvidedHostHeader": "bedrock-mantle.us-east-1.api.aws"}}"""

# https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-user-identity.html
# (an AssumedRole session: sessionContext, with ec2RoleDelivery "1.0" for IMDSv1 credentials)
SESSION = """{"type": "AssumedRole", "principalId": "AROAICFHPEXAMPLE:$session",
"arn": "arn:aws:sts::111122223333:assumed-role/BedrockRole/$session",
"accountId": "111122223333", "accessKeyId": "$key",
"sessionContext": {"sessionIssuer": {"type": "Role", "principalId": "AROAICFHPEXAMPLE",
  "arn": "arn:aws:iam::111122223333:role/BedrockRole", "accountId": "111122223333",
  "userName": "BedrockRole"},
  "attributes": {"creationDate": "2023-10-11T20:09:20Z", "mfaAuthenticated": "false"},
  "ec2RoleDelivery": "1.0"}}"""

# https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-log-file-examples.html
# (IAM log examples: Alice calls CreateUser for Bob), verbatim; a 1.0 event has no
# recipientAccountId.
CREATE_USER = """{"eventVersion": "1.0",
"userIdentity": {"type": "IAMUser", "principalId": "EX_PRINCIPAL_ID",
  "arn": "arn:aws:iam::123456789012:user/Alice", "accountId": "123456789012",
  "accessKeyId": "$key", "userName": "Alice"},
"eventTime": "2014-03-24T21:11:59Z", "eventSource": "iam.amazonaws.com",
"eventName": "CreateUser", "awsRegion": "us-east-2", "sourceIPAddress": "127.0.0.1",
"userAgent": "aws-cli/1.3.2 Python/2.7.5 Windows/7", "requestParameters": {"userName": "Bob"},
"responseElements": {"user": {"createDate": "Mar 24, 2014 9:11:59 PM", "userName": "Bob",
  "arn": "arn:aws:iam::123456789012:user/Bob", "path": "/", "userId": "EXAMPLEUSERID"}}}"""

# Same page, "Error Code and Message Log Example" (UpdateTrail on a missing trail), verbatim.
UPDATE_TRAIL_ERROR = """{"eventVersion": "1.04",
"userIdentity": {"type": "IAMUser", "principalId": "EX_PRINCIPAL_ID",
  "arn": "arn:aws:iam::123456789012:user/Alice", "accountId": "123456789012",
  "accessKeyId": "$key", "userName": "Alice"},
"eventTime": "2016-07-14T19:15:45Z", "eventSource": "cloudtrail.amazonaws.com",
"eventName": "UpdateTrail", "awsRegion": "us-east-2", "sourceIPAddress": "205.251.233.182",
"userAgent": "aws-cli/1.10.32 Python/2.7.9 Windows/7 botocore/1.4.22",
"errorCode": "TrailNotFoundException",
"errorMessage": "Unknown trail: myTrail2 for the user: 123456789012",
"requestParameters": {"name": "myTrail2"}, "responseElements": null,
"requestID": "5d40662a-49f7-11e6-97e4-d9cb6ff7d6a3",
"eventID": "b7d4398e-b2f0-4faa-9c76-e2d316a8d67f", "eventType": "AwsApiCall",
"recipientAccountId": "123456789012"}"""


def invoke_model(key: str, **changes: Any) -> Record:
    return documented(INVOKE_MODEL, key=key) | changes


def session(key: str, name: str = "userxyz") -> Record:
    return documented(SESSION, key=key, session=name)


PROFILE_ARN = "arn:aws:bedrock:us-east-2:111122223333:inference-profile/us.amazon.nova-pro-v1:0"


def converse_with_tokens(session_key: str) -> Record:
    # https://aws.amazon.com/blogs/security/incident-response-guide-for-aws-cloudtrail-investigations-part-2/
    # (Scenario 3: Converse on amazon.nova-pro-v1:0 in us-east-2 from an IMDSv1 instance-profile
    # session; "additionalEventData": {"inputTokens": 944, "outputTokens": 126}, numbers). The
    # other fields are the Bedrock page's example above.
    changes: Record = {"eventName": "Converse", "awsRegion": "us-east-2"}
    changes |= {"requestParameters": {"modelId": "amazon.nova-pro-v1:0"}}
    changes |= {"additionalEventData": {"inputTokens": 944, "outputTokens": 126}}
    return invoke_model("", userIdentity=session(session_key, "i-0123456789abcdef0"), **changes)


# Control-plane calls AWS's Bedrock incident-response playbook lists, with their readOnly flag
# (https://github.com/aws-samples/aws-customer-playbook-framework/blob/main/docs/Bedrock_Response.md);
# requestParameters as the API reference's request syntax
# (https://docs.aws.amazon.com/bedrock/latest/APIReference/API_PutModelInvocationLoggingConfiguration.html);
# the rest is the Bedrock page's example. No AWS page prints these records whole.
LOGGING_CONFIG = documented("""{"loggingConfig": {"cloudWatchConfig": {
  "logGroupName": "/aws/bedrock/modelinvocations",
  "roleArn": "arn:aws:iam::111122223333:role/BedrockLoggingRole",
  "largeDataDeliveryS3Config": {"bucketName": "amzn-s3-demo-bucket", "keyPrefix": "big"}},
"s3Config": {"bucketName": "amzn-s3-demo-bucket", "keyPrefix": "bedrock"},
"textDataDeliveryEnabled": true, "imageDataDeliveryEnabled": true,
"embeddingDataDeliveryEnabled": true, "videoDataDeliveryEnabled": false}}""")
CONTROL_PLANE = [
    ("GetModelInvocationLoggingConfiguration", True, None),
    ("PutModelInvocationLoggingConfiguration", False, LOGGING_CONFIG),
    ("DeleteModelInvocationLoggingConfiguration", False, None),
    ("ListFoundationModels", True, None),
    ("GetFoundationModelAvailability", True, None),
]


def control_plane(key: str, name: str, read_only: bool, params: Any) -> Record:
    host = {"clientProvidedHostHeader": "bedrock.us-west-2.amazonaws.com"}
    changes = {"readOnly": read_only, "requestParameters": params, "tlsDetails": host}
    return invoke_model(key, eventName=name, **changes)


def bearer_calls() -> list[tuple[Record, str, str]]:
    """InvokeModel made with an Amazon Bedrock API key: ``additionalEventData.callWithBearerToken``
    true, the field AWS's sample EventBridge rule matches (aws-samples/aws-customer-playbook-
    framework, detections/cfn/bedrock-eventbridge-monitoring.yaml; the keys:
    https://docs.aws.amazon.com/bedrock/latest/userguide/api-keys.html). A long-term key acts as
    its IAM user, a short-term one as the session that presigned it."""
    flag = {"callWithBearerToken": True}
    session_key = key_id("ASIA")
    long_term = invoke_model(key_id("AKIA"), additionalEventData=flag)
    short_term = invoke_model("", userIdentity=session(session_key), additionalEventData=flag)
    return [
        (long_term, f"bedrock-api-key:{USERXYZ}", "bedrock_api_key"),
        (short_term, session_key, "bedrock_api_key_session"),
    ]


RUNTIME = ["InvokeModel", "InvokeModelWithResponseStream", "Converse", "ConverseStream"]


@pytest.mark.parametrize("operation", RUNTIME)
def test_bedrock_runtime_call(operation: str) -> None:
    key = key_id("AKIA")
    event = parsed(invoke_model(key, eventName=operation))
    expect(event, source="cloudtrail", operation=operation, success=True, error_code=None)
    expect(event, time=datetime(2023, 10, 11, 21, 58, 59, tzinfo=UTC), region="us-west-2")
    expect(event, model="stability.stable-diffusion-xl-v0", resource=f"{BEDROCK}/111122223333")
    expect(event, credential_id=key, credential_kind="aws_long_term", principal=USERXYZ)
    expect(event, account="111122223333", src_ip="192.0.2.0", user_agent=BOTO3)
    expect(event, tokens_in=None, tokens_out=None, target=None)


@pytest.mark.parametrize(("name", "read_only", "params"), CONTROL_PLANE)
def test_bedrock_control_plane_call(name: str, read_only: bool, params: Any) -> None:
    key = key_id("AKIA")
    event = parsed(control_plane(key, name, read_only, params))
    expect(event, operation=name, success=True, model=None, target=None)
    expect(event, credential_id=key, principal=USERXYZ, account="111122223333")


def test_bedrock_api_key_calls() -> None:
    for record, credential, kind in bearer_calls():
        event = parsed(record)
        expect(event, credential_id=credential, credential_kind=kind, operation="InvokeModel")


def test_converse_from_an_instance_role_session() -> None:
    session_key = key_id("ASIA")
    event = parsed(converse_with_tokens(session_key))
    expect(event, operation="Converse", model="amazon.nova-pro-v1:0", region="us-east-2")
    expect(event, credential_id=session_key, credential_kind="aws_session")
    assert event.principal == session(session_key, "i-0123456789abcdef0")["arn"]


def test_converse_event_token_counts() -> None:
    event = parsed(converse_with_tokens(key_id("ASIA")))
    expect(event, tokens_in=944, tokens_out=126)


@pytest.mark.parametrize(
    ("arn", "model"),
    [
        (
            "arn:aws:bedrock:us-east-2::foundation-model/amazon.nova-pro-v1:0",
            "amazon.nova-pro-v1:0",
        ),
        (PROFILE_ARN, PROFILE_ARN),
    ],
)
def test_a_stream_call_without_parameters_names_its_model_resource(arn: str, model: str) -> None:
    # Reported (not by AWS) for ConverseStream: requestParameters null, the model in resources.
    resources = [{"accountId": "111122223333", "type": "AWS::Bedrock::Model", "ARN": arn}]
    record = converse_with_tokens(key_id("ASIA")) | {"eventName": "ConverseStream"}
    event = parsed(record | {"requestParameters": None, "resources": resources})
    expect(event, operation="ConverseStream", model=model)


def test_mantle_inference_with_a_long_term_api_key() -> None:
    event = parsed(documented(MANTLE_INFERENCE, key=key_id("AKIA")))
    expect(event, operation="CreateInference", resource="bedrock-mantle.amazonaws.com/111122223333")
    expect(event, region="us-east-1", success=True, user_agent="OpenAI/Python 1.50.0")
    expect(event, credential_id=f"bedrock-api-key:{USERXYZ}", credential_kind="bedrock_api_key")
    expect(event, principal=USERXYZ, time=datetime(2026, 5, 30, 14, 32, 11, tzinfo=UTC))


def test_mantle_inference_names_its_model() -> None:
    event = parsed(documented(MANTLE_INFERENCE, key=key_id("AKIA")))
    expect(event, model="anthropic.claude-opus-4-7")


def test_iam_create_user_and_an_error() -> None:
    key = key_id("AKIA")
    user = parsed(documented(CREATE_USER, key=key))
    # A 1.0 event has no recipientAccountId: the account is userIdentity's.
    expect(user, account="123456789012", time=datetime(2014, 3, 24, 21, 11, 59, tzinfo=UTC))
    expect(user, operation="CreateUser", target="Bob", src_ip="127.0.0.1", success=True)
    expect(user, principal=ALICE, credential_id=key, resource="iam.amazonaws.com/123456789012")
    failed = parsed(documented(UPDATE_TRAIL_ERROR, key=key))
    expect(failed, success=False, error_code="TrailNotFoundException", target="myTrail2")


# --- Bedrock model-invocation logs -----------------------------------------------------------

# https://docs.aws.amazon.com/bedrock/latest/userguide/model-invocation-logging.html
# ("Log entry format": one record shape for CloudWatch Logs and S3), verbatim.
LOG_ENTRY = """{"schemaType": "ModelInvocationLog", "schemaVersion": "1.0",
"timestamp": "2024-01-15T12:00:00Z", "accountId": "123456789012", "region": "us-east-1",
"requestId": "abcd1234-5678-efgh-ijkl-mnopqrstuvwx", "operation": "Converse",
"modelId": "anthropic.claude-sonnet-4-20250514-v1:0",
"identity": {"arn": "arn:aws:sts::123456789012:assumed-role/MyRole/session-name"},
"requestMetadata": {"team": "orchestrator", "environment": "production"},
"input": {"inputContentType": "application/json", "inputBodyJson": { }, "inputTokenCount": 25},
"output": {"outputContentType": "application/json", "outputBodyJson": { },
  "outputTokenCount": 150}}"""

# https://docs.aws.amazon.com/bedrock/latest/userguide/prequisites-model-distillation.html
# ("Invocation logs format": InvokeModel of a Llama model), its <placeholders> filled in.
DISTILLATION_ENTRY = """{"schemaType": "ModelInvocationLog", "schemaVersion": "1.0",
"timestamp": "2024-11-20T08:30:00Z", "accountId": "123456789012",
"identity": {"arn": "arn:aws:iam::123456789012:user/Alice"}, "region": "us-west-2",
"requestId": "a1b2c3d4-5678-90ab-cdef-EXAMPLE33333", "operation": "InvokeModel",
"modelId": "meta.llama3-1-70b-instruct-v1:0",
"input": {"inputContentType": "application/json", "inputBodyJson": {
  "prompt": "<|begin_of_text|><|start_header_id|>user<|end_header_id|>What is the capital of Sudan?<|eot_id|><|start_header_id|>assistant<|end_header_id|>",
  "temperature": 0.1, "max_gen_len": 2048, "top_p": 0.9}, "inputTokenCount": 15},
"output": {"outputContentType": "application/json", "outputBodyJson": {
  "generation": "\\n\\nThe capital of Sudan is Khartoum.", "prompt_token_count": 15,
  "generation_token_count": 12, "stop_reason": "stop"}, "outputTokenCount": 12},
"requestMetadata": {"project": "distillation"}}"""  # noqa: E501


def invocation_logs() -> list[tuple[Record, dict[str, Any]]]:
    """Documented invocation-log records and what each must give."""
    entry, llama = documented(LOG_ENTRY), documented(DISTILLATION_ENTRY)
    # Converse bodies as the API reference defines them (request: messages, system,
    # inferenceConfig; response: output.message, stopReason, usage, metrics):
    # https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html
    converse = copy.deepcopy(entry) | {"requestId": "abcd1234-5678-efgh-ijkl-converse0001"}
    converse["input"]["inputBodyJson"] = documented("""{"system": [{"text": "Be brief."}],
      "messages": [{"role": "user", "content": [{"text": "why is the sky blue"}]}],
      "inferenceConfig": {"maxTokens": 512, "temperature": 0.5}}""")
    converse["output"]["outputBodyJson"] = documented("""{"stopReason": "end_turn",
      "output": {"message": {"role": "assistant", "content": [{"text": "Rayleigh."}]}},
      "usage": {"inputTokens": 25, "outputTokens": 150, "totalTokens": 175},
      "metrics": {"latencyMs": 1200}}""")
    # https://aws.amazon.com/blogs/machine-learning/getting-started-with-cross-region-inference-in-amazon-bedrock/
    # (a re-routed call adds "inferenceRegion"; the record stays in the source region)
    rerouted = entry | {"requestId": "abcd1234-rerouted", "inferenceRegion": "us-west-2"}
    # Image output and an error, with the fields AWS's Bedrock playbook declares for these logs
    # (its Athena DDL: errorCode; outputBodyS3Path; outputImageBucketedStepSize/Height/Width):
    # https://github.com/aws-samples/aws-customer-playbook-framework/blob/main/docs/Bedrock_Response.md
    image = {k: v for k, v in llama.items() if k != "requestMetadata"}
    image |= {"requestId": "a1b2c3d4-image", "modelId": "amazon.titan-image-generator-v1"}
    image["input"] = documented("""{"inputContentType": "application/json", "inputBodyJson": {
      "taskType": "TEXT_IMAGE", "textToImageParams": {"text": "a lighthouse at dawn"},
      "imageGenerationConfig": {"numberOfImages": 1, "height": 1024, "width": 1024}}}""")
    image["output"] = documented("""{"outputContentType": "application/json",
      "outputBodyS3Path": "s3://amzn-s3-demo-bucket/bedrock/AWSLogs/123456789012/BedrockModelInvocationLogs/us-west-2/2024/11/20/08/data/output.json.gz",
      "outputImageBucketedStepSize": 50, "outputImageHeight": 1024, "outputImageWidth": 1024}""")
    failed = {k: v for k, v in image.items() if k != "output"}
    failed |= {"requestId": "a1b2c3d4-error", "errorCode": "ValidationException"}
    base: dict[str, Any] = {"provider": "aws", "resource": f"{BEDROCK}/123456789012"}
    base |= {"credential_id": None, "credential_kind": None, "src_ip": None}
    logged: dict[str, Any] = base | {"account": "123456789012", "region": "us-east-1"}
    logged |= {"time": datetime(2024, 1, 15, 12, tzinfo=UTC), "operation": "Converse"}
    logged |= {"principal": entry["identity"]["arn"], "tokens_in": 25, "tokens_out": 150}
    logged |= {"model": entry["modelId"], "success": True, "error_code": None}
    titan: dict[str, Any] = base | {"model": image["modelId"], "region": "us-west-2"}
    titan |= {"tokens_in": None, "tokens_out": None, "principal": ALICE}
    return [
        (entry, logged),
        (converse, logged),
        (rerouted, logged),
        (llama, base | {"operation": "InvokeModel", "tokens_in": 15, "tokens_out": 12}),
        (image, titan | {"success": True, "error_code": None}),
        (failed, titan | {"success": False, "error_code": "ValidationException"}),
    ]


@pytest.mark.parametrize("index", range(6))
def test_invocation_log_record(index: int) -> None:
    record, expected = invocation_logs()[index]
    expect(parsed(record), source="bedrock_invocation", **expected)


# --- Delivered files -------------------------------------------------------------------------


def trail_records() -> list[Record]:
    keys = [key_id("AKIA") for _ in range(4)]
    return [
        invoke_model(keys[0]),
        converse_with_tokens(key_id("ASIA")),
        documented(MANTLE_INFERENCE, key=keys[1]),
        *(control_plane(keys[2], *call) for call in CONTROL_PLANE),
        *(record for record, _, _ in bearer_calls()),
        documented(CREATE_USER, key=keys[3]),
        documented(UPDATE_TRAIL_ERROR, key=keys[3]),
    ]


def test_cloudtrail_object_in_s3(tmp_path: Path) -> None:
    # Key and name format (AccountID_CloudTrail_Region_YYYYMMDDTHHmmZ_UniqueString.json.gz):
    # https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-log-file-examples.html
    folder = tmp_path / "AWSLogs/111122223333/CloudTrail/us-west-2/2023/10/11"
    folder.mkdir(parents=True)
    name = f"111122223333_CloudTrail_us-west-2_20231011T2205Z_{key_id('')}.json.gz"
    records = trail_records()
    (folder / name).write_bytes(gzip.compress(json.dumps({"Records": records}).encode()))
    with EventStore.open(tmp_path / "events.duckdb") as store:
        report = ingest_files([tmp_path / "AWSLogs"], store)
        kinds = store.connection.sql(
            "SELECT credential_kind, count(*) FROM events GROUP BY 1 ORDER BY 1"
        ).fetchall()
    (file,) = report.files
    assert (file.source, file.rejected, file.notes) == ("cloudtrail", 0, ())
    assert file.records == file.stored == len(records)
    expected = {"aws_long_term": 8, "aws_session": 1, "bedrock_api_key": 2}
    assert dict(kinds) == expected | {"bedrock_api_key_session": 1}


def test_invocation_logs_in_s3_and_cloudwatch_through_the_cli(tmp_path: Path) -> None:
    records = [record for record, _ in invocation_logs()]
    lines = "".join(json.dumps(record) + "\n" for record in records).encode()
    # S3: gzipped JSON files of records under AWSLogs/{account}/BedrockModelInvocationLogs/, large
    # bodies as objects of their own under the data prefix (the model-invocation-logging page).
    s3 = tmp_path / "bucket/bedrock/AWSLogs/123456789012/BedrockModelInvocationLogs/us-east-1"
    (s3 / "2024/01/15/12/data").mkdir(parents=True)
    (s3 / "2024/01/15/12/20240115T1200Z_7d2b9f.json.gz").write_bytes(gzip.compress(lines))
    body = {"messages": [{"role": "user", "content": [{"text": "x" * 200}]}]}
    (s3 / "2024/01/15/12/data/input.json.gz").write_bytes(gzip.compress(json.dumps(body).encode()))
    # CloudWatch Logs: subscription data of the log stream the page's role policy names.
    envelope = documented("""{"messageType": "DATA_MESSAGE", "owner": "123456789012",
      "logGroup": "/aws/bedrock/modelinvocations", "logStream": "aws/bedrock/modelinvocations",
      "subscriptionFilters": ["to-firehose"]}""")
    envelope["logEvents"] = [
        {"id": f"{i:056d}", "timestamp": 1705320000000 + i, "message": json.dumps(record)}
        for i, record in enumerate(records)
    ]
    (tmp_path / "cwl.json").write_text(json.dumps(envelope))
    db = str(tmp_path / "events.duckdb")
    for path in (tmp_path / "bucket", tmp_path / "cwl.json"):
        result = CliRunner().invoke(app, ["ingest", str(path), "--db", db, "-q"])
        assert result.exit_code == 0, result.output
    with EventStore.open(Path(db)) as store:
        rows = store.connection.sql("SELECT source, sum(tokens_in) FROM events GROUP BY 1")
        totals, stored = rows.fetchall(), store.count()
    assert totals == [("bedrock_invocation", 3 * 25 + 15)]
    assert stored == len(records)  # the CloudWatch copies are the S3 records, stored once
