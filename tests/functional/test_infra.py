"""infra/resources.yaml: the local stack builds it in moto, and it packages into a clean template."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from chalicelib.local.resources import LOCAL_NAMES, TemplateError, create_resources, load_template
from chalicelib.settings import Settings

REPO = Path(__file__).resolve().parents[2]
VENV = Path(sys.prefix)

FAKE_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}

FUNCTION_ENVIRONMENT = {
    "TABLE_NAME": {"Ref": "InterviewData"},
    "BLOB_BUCKET": {"Ref": "BlobBucket"},
    "TASK_QUEUE": {"Fn::GetAtt": ["TaskQueue", "QueueName"]},
    "TASK_MAX_ATTEMPTS": "3",
    "SERVER_KEY_PARAMETER": {"Ref": "ServerKeyParameter"},
    "MAIL_BUCKET": {"Ref": "MailBucket"},
    "INCOMING_MAIL_DOMAIN": {"Ref": "IncomingMailDomain"},
    "DATABASE_URL": {"Ref": "DatabaseUrl"},
    "REDIS_URL": {"Ref": "RedisUrl"},
}
SERVER_KEY_PARAMETER_ARN = {
    "Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${ServerKeyParameter}"
}

THROWAWAY_APP = """\
from chalice import Chalice

app = Chalice(app_name="serverless-interviews")


@app.route("/")
def index():
    return {}
"""


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in FAKE_AWS_ENV.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def aws(aws_env: None) -> Iterator[None]:
    with mock_aws():
        yield


# ---------------------------------------------------------------- the template itself


def test_short_tags_load_as_long_form_intrinsics() -> None:
    resources = load_template()["Resources"]

    redrive = resources["TaskQueue"]["Properties"]["RedrivePolicy"]
    assert redrive["deadLetterTargetArn"] == {"Fn::GetAtt": ["TaskDeadLetterQueue", "Arn"]}
    assert resources["APIHandler"]["Properties"]["Environment"]["Variables"] == FUNCTION_ENVIRONMENT


def test_the_dead_letter_redrive_matches_the_workers_attempts() -> None:
    # The worker fails a task on its last attempt; SQS must move the message on the next receive.
    resources = load_template()["Resources"]
    attempts = resources["APIHandler"]["Properties"]["Environment"]["Variables"]["TASK_MAX_ATTEMPTS"]
    assert resources["TaskQueue"]["Properties"]["RedrivePolicy"]["maxReceiveCount"] == int(attempts)
    assert Settings.task_max_attempts == int(attempts)
    assert resources["TaskQueue"]["Properties"]["VisibilityTimeout"] >= 6 * 30


def _statements(role: dict[str, Any]) -> list[dict[str, Any]]:
    return [statement for policy in role["Properties"]["Policies"]
            for statement in policy["PolicyDocument"]["Statement"]]


def _actions(statement: dict[str, Any]) -> list[str]:
    actions = statement["Action"]
    return [actions] if isinstance(actions, str) else list(actions)


def _roles(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: resource for name, resource in template["Resources"].items()
            if resource.get("Type") == "AWS::IAM::Role"}


def assert_server_key_is_read_from_one_parameter(template: dict[str, Any]) -> None:
    """Each role may call ssm:GetParameter on the server key's parameter alone, and on nothing else in SSM."""
    assert set(_roles(template)) == set(ROLE_OF.values())
    for name, role in _roles(template).items():
        ssm = [s for s in _statements(role) if any(a.startswith("ssm:") for a in _actions(s))]
        assert len(ssm) == 1, (name, ssm)
        assert _actions(ssm[0]) == ["ssm:GetParameter"]
        assert ssm[0]["Resource"] == SERVER_KEY_PARAMETER_ARN
    parameter = template["Parameters"]["ServerKeyParameter"]
    assert parameter["Type"] == "String" and parameter["Default"] == "/serverless-interviews/server-key"


def assert_no_server_key_value(template: dict[str, Any]) -> None:
    """No function's environment holds a key; nothing in the template names one but its parameter."""
    for name, resource in template["Resources"].items():
        variables = (resource.get("Properties", {}).get("Environment") or {}).get("Variables") or {}
        assert "SERVER_KEY" not in variables, f"{name} has a SERVER_KEY in its environment"
    text = json.dumps(template)
    assert text.count("SERVER_KEY") == text.count("SERVER_KEY_PARAMETER")


def test_the_functions_read_the_server_key_from_one_ssm_parameter_and_hold_none() -> None:
    template = load_template()
    assert_server_key_is_read_from_one_parameter(template)
    assert_no_server_key_value(template)
    # The tracked Chalice config holds no key either (its variables end up in the functions' environment).
    config = json.loads((REPO / ".chalice" / "config.json").read_text())
    assert "SERVER_KEY" not in json.dumps(config)


def test_the_roles_that_send_send_email_from_one_identity_and_sms_but_publish_to_no_topic() -> None:
    roles = _roles(load_template())
    senders = set()
    for name, role in roles.items():
        statements = {s["Sid"]: s for s in _statements(role)}
        if "SendEmail" not in statements:
            assert not any(a.startswith(("ses:", "sns:")) for s in statements.values() for a in _actions(s)), name
            continue
        senders.add(name)
        assert statements["SendEmail"]["Action"] == "ses:SendRawEmail"
        assert statements["SendEmail"]["Resource"] == {
            "Fn::Sub": "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/${SenderIdentity}"}
        assert statements["SendSms"]["Action"] == "sns:Publish"
        assert statements["SendSms"]["NotResource"] == {"Fn::Sub": "arn:${AWS::Partition}:sns:*:*:*"}
    # Turns send (API, worker); the hourly pass sweeps the sends a dead process left; mail and DLQ never send.
    assert senders == {"ApiRole", "WorkerRole", "CronRole"}


# Each function Chalice makes -> the one role of its kind (infra/resources.yaml).
ROLE_OF = {"APIHandler": "ApiRole", "RunTasks": "WorkerRole", "FailAbandonedTasks": "DeadLettersRole",
           "ReceiveMail": "MailRole", "CronHourly": "CronRole", "CronDaily": "CronRole", "CronWeekly": "CronRole",
           "CronMonthly": "CronRole"}
# What a statement may name that is not a resource of the stack: the stack's own parameters for the
# server key's SSM parameter and the SES identity mail is sent from. SMS is a NotResource statement.
_OUTSIDE_BY_PARAMETER = {"${ServerKeyParameter}", "${SenderIdentity}"}


def _names_a_stack_resource(value: Any, resources: dict[str, Any]) -> bool:
    if isinstance(value, dict) and set(value) == {"Fn::GetAtt"}:
        return value["Fn::GetAtt"][0] in resources
    if isinstance(value, dict) and set(value) == {"Fn::Sub"} and isinstance(value["Fn::Sub"], str):
        text = value["Fn::Sub"]
        if any(parameter in text for parameter in _OUTSIDE_BY_PARAMETER):
            return "*" not in text
        named = [name for name in resources if f"${{{name}.Arn}}" in text]
        # an ARN of the stack's resource, at most narrowed by a path (objects, indexes)
        return len(named) == 1 and text.startswith(f"${{{named[0]}.Arn}}")
    return False


def assert_least_privilege(template: dict[str, Any]) -> None:
    """No statement of a function's role grants a `*` action, or names a resource outside the stack."""
    resources = template["Resources"]
    for name, role in _roles(template).items():
        for statement in _statements(role):
            where = f"{name}.{statement.get('Sid')}"
            assert statement["Effect"] == "Allow", where
            for action in _actions(statement):
                assert "*" not in action, f"{where} grants {action}"
            if "NotResource" in statement:  # only SMS to phone numbers: never a topic
                assert statement["Action"] == "sns:Publish" and statement["Sid"] == "SendSms", where
                continue
            named = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            for value in named:
                assert _names_a_stack_resource(value, resources), f"{where} names {value}"
        logs = [s for s in _statements(role) if any(a.startswith("logs:") for a in _actions(s))]
        assert [s["Sid"] for s in logs] == ["OwnLogs"], name
        assert sorted(_actions(logs[0])) == ["logs:CreateLogStream", "logs:PutLogEvents"]


def test_each_role_grants_only_named_actions_on_the_stacks_resources() -> None:
    template = load_template()
    assert_least_privilege(template)
    resources = template["Resources"]
    # only the mail handler reads raw mail; only the worker and the DLQ handler consume the task queues
    readers = {name for name, role in _roles(template).items() for s in _statements(role)
               if "sqs:ReceiveMessage" in _actions(s)}
    assert readers == {"WorkerRole", "DeadLettersRole", "MailRole"}
    mail_readers = {name for name, role in _roles(template).items() for s in _statements(role)
                    if s.get("Resource") == {"Fn::Sub": "${MailBucket.Arn}/*"}}
    assert mail_readers == {"MailRole"}
    # each function's log group is its own, named after the function
    for function, role in ROLE_OF.items():
        own = resources[function]["Properties"]["FunctionName"]["Fn::Sub"]
        groups = [r["Fn::GetAtt"][0] for s in _statements(resources[role]) if s["Sid"] == "OwnLogs"
                  for r in (s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]])]
        assert f"/aws/lambda/{own}" in [resources[g]["Properties"]["LogGroupName"]["Fn::Sub"] for g in groups]


def test_data_at_rest_is_encrypted_under_the_stacks_key_and_buckets_take_only_tls() -> None:
    resources = load_template()["Resources"]
    key = {"Fn::GetAtt": ["DataKey", "Arn"]}
    assert resources["DataKey"]["Properties"]["EnableKeyRotation"] is True
    assert resources["InterviewData"]["Properties"]["SSESpecification"] == {
        "SSEEnabled": True, "SSEType": "KMS", "KMSMasterKeyId": key}
    policies = {r["Properties"]["Bucket"]["Ref"]: r["Properties"]["PolicyDocument"]["Statement"]
                for r in resources.values() if r.get("Type") == "AWS::S3::BucketPolicy"}
    for name, resource in resources.items():
        properties = resource.get("Properties", {})
        if resource.get("Type") == "AWS::S3::Bucket":
            (rule,) = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
            assert rule["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key}, name
            assert all(properties["PublicAccessBlockConfiguration"].values()), name
            deny = [s for s in policies[name] if s["Effect"] == "Deny"]
            assert deny and deny[0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}, name
        if resource.get("Type") == "AWS::SQS::Queue":
            assert properties["KmsMasterKeyId"] == key, name


def test_every_dead_letter_queue_has_an_alarm_and_every_function_a_concurrency_setting() -> None:
    resources = load_template()["Resources"]
    dead_letter_queues = {r["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
                          for r in resources.values() if "RedrivePolicy" in r.get("Properties", {})}
    watched = {d["Value"]["Fn::GetAtt"][0] for r in resources.values() if r.get("Type") == "AWS::CloudWatch::Alarm"
               for d in r["Properties"]["Dimensions"]}
    assert dead_letter_queues == watched == {"TaskDeadLetterQueue", "MailDeadLetterQueue"}
    for function in ROLE_OF:
        assert "ReservedConcurrentExecutions" in resources[function]["Properties"], function
    (throttle,) = resources["RestAPI"]["Properties"]["MethodSettings"]
    assert throttle["ThrottlingRateLimit"] == {"Ref": "ApiThrottleRate"}


def test_the_chalice_config_has_dev_and_prod_stages_no_secret_and_no_role_of_its_own() -> None:
    config = json.loads((REPO / ".chalice" / "config.json").read_text())
    assert set(config["stages"]) == {"dev", "prod"}
    assert config["manage_iam_role"] is False  # the roles are infra/resources.yaml's, one per function
    text = json.dumps(config).lower()
    assert not any(word in text for word in ("secret", "password", "server_key\"", "api_key"))
    assert config["stages"]["prod"]["environment_variables"]["COOKIE_SECURE"] == "true"


def test_local_names_agree_with_settings_and_chalice_config() -> None:
    config = json.loads((REPO / ".chalice" / "config.json").read_text())
    variables = config["stages"]["dev"]["environment_variables"]

    assert variables["TABLE_NAME"] == Settings.table_name == LOCAL_NAMES["InterviewData"]
    assert variables["BLOB_BUCKET"] == Settings.blob_bucket == LOCAL_NAMES["BlobBucket"]
    assert variables["TASK_QUEUE"] == Settings.task_queue == LOCAL_NAMES["TaskQueue"]


# ---------------------------------------------------------------- the local stack's resources


def test_create_resources_builds_table_bucket_and_queues(aws: None) -> None:
    created = create_resources()

    assert set(created) == {"InterviewData", "BlobBucket", "TaskQueue", "TaskDeadLetterQueue", "MailBucket",
                            "MailQueue", "MailDeadLetterQueue", "MailTopic", "MailTopicSubscription", "AlarmTopic",
                            "DataKey"}
    dynamodb = boto3.client("dynamodb")
    table = dynamodb.describe_table(TableName=created["InterviewData"])["Table"]
    assert table["TableName"] == "InterviewData"
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert table["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    indexes = {index["IndexName"]: index for index in table["GlobalSecondaryIndexes"]}
    assert set(indexes) == {"by_interview", "by_owner", "by_cron", "by_age", "by_send", "by_effect"}
    for name, hash_key in (("by_interview", "interview"), ("by_owner", "owner")):
        assert indexes[name]["KeySchema"] == [
            {"AttributeName": hash_key, "KeyType": "HASH"},
            {"AttributeName": "modified", "KeyType": "RANGE"},
        ]
        assert indexes[name]["Projection"]["ProjectionType"] == "ALL"
    # The scheduled pass's and the purge's indexes hold the keys and the interview only
    for name, hash_key, range_key in (("by_cron", "cron_shard", "pk"), ("by_age", "age_shard", "modified")):
        assert indexes[name]["KeySchema"] == [
            {"AttributeName": hash_key, "KeyType": "HASH"},
            {"AttributeName": range_key, "KeyType": "RANGE"},
        ]
        assert indexes[name]["Projection"] == {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["interview"]}
    # The send sweep's index: only pending sends carry its keys, and it holds nothing else
    assert indexes["by_send"]["KeySchema"] == [{"AttributeName": "send_shard", "KeyType": "HASH"},
                                               {"AttributeName": "send_due", "KeyType": "RANGE"}]
    assert indexes["by_send"]["Projection"] == {"ProjectionType": "KEYS_ONLY"}
    # The effect sweep's index: likewise, only pending changes to other sessions carry its keys
    assert indexes["by_effect"]["KeySchema"] == [{"AttributeName": "effect_shard", "KeyType": "HASH"},
                                                 {"AttributeName": "effect_due", "KeyType": "RANGE"}]
    assert indexes["by_effect"]["Projection"] == {"ProjectionType": "KEYS_ONLY"}
    ttl = dynamodb.describe_time_to_live(TableName="InterviewData")["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}

    s3 = boto3.client("s3")
    assert created["BlobBucket"] == "interview-blobs"
    s3.head_bucket(Bucket="interview-blobs")
    rules = s3.get_bucket_encryption(Bucket="interview-blobs")["ServerSideEncryptionConfiguration"]["Rules"]
    key_arn = boto3.client("kms").describe_key(KeyId="alias/interview-data")["KeyMetadata"]["Arn"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key_arn}
    block = s3.get_public_access_block(Bucket="interview-blobs")["PublicAccessBlockConfiguration"]
    assert all(block.values()) and len(block) == 4

    sqs = boto3.client("sqs")
    assert created["TaskQueue"] == sqs.get_queue_url(QueueName="interview-tasks")["QueueUrl"]
    assert created["TaskDeadLetterQueue"] == sqs.get_queue_url(QueueName="interview-tasks-dlq")["QueueUrl"]
    queue = sqs.get_queue_attributes(QueueUrl=created["TaskQueue"], AttributeNames=["All"])["Attributes"]
    dlq = sqs.get_queue_attributes(QueueUrl=created["TaskDeadLetterQueue"], AttributeNames=["All"])[
        "Attributes"
    ]
    assert queue["VisibilityTimeout"] == "180"
    assert json.loads(queue["RedrivePolicy"]) == {
        "deadLetterTargetArn": dlq["QueueArn"],
        "maxReceiveCount": 3,
    }
    assert dlq["MessageRetentionPeriod"] == "1209600"

    # Inbound mail: SES's notifications on the mail topic reach the mail queue as they are (raw delivery);
    # the bucket itself announces nothing (its objects do not say whom a mail was for)
    mail_queue = sqs.get_queue_attributes(QueueUrl=created["MailQueue"], AttributeNames=["QueueArn"])["Attributes"]
    assert s3.get_bucket_notification_configuration(Bucket="interview-mail").get("QueueConfigurations", []) == []
    sns = boto3.client("sns")
    (subscription,) = sns.list_subscriptions_by_topic(TopicArn=created["MailTopic"])["Subscriptions"]
    assert (subscription["Protocol"], subscription["Endpoint"]) == ("sqs", mail_queue["QueueArn"])
    attributes = sns.get_subscription_attributes(SubscriptionArn=subscription["SubscriptionArn"])["Attributes"]
    assert attributes["RawMessageDelivery"] == "true"


def test_dead_letter_queue_receives_after_five_receives(aws: None) -> None:
    created = create_resources()
    sqs = boto3.client("sqs")
    sqs.set_queue_attributes(QueueUrl=created["TaskQueue"], Attributes={"VisibilityTimeout": "0"})
    sqs.send_message(QueueUrl=created["TaskQueue"], MessageBody="job")

    receives = 0
    while sqs.receive_message(QueueUrl=created["TaskQueue"]).get("Messages"):
        receives += 1
        assert receives <= 3

    assert receives == 3
    moved = sqs.receive_message(QueueUrl=created["TaskDeadLetterQueue"])["Messages"]
    assert [message["Body"] for message in moved] == ["job"]


def test_create_resources_is_idempotent(aws: None) -> None:
    first = create_resources()
    # Also converges a queue that exists with other attributes.
    boto3.client("sqs").set_queue_attributes(
        QueueUrl=first["TaskQueue"], Attributes={"VisibilityTimeout": "5"}
    )

    assert create_resources() == first
    attributes = boto3.client("sqs").get_queue_attributes(
        QueueUrl=first["TaskQueue"], AttributeNames=["VisibilityTimeout"]
    )["Attributes"]
    assert attributes["VisibilityTimeout"] == "180"


def test_resource_without_a_local_name_is_reported(aws: None, tmp_path: Path) -> None:
    text = (REPO / "infra" / "resources.yaml").read_text()
    template = tmp_path / "resources.yaml"
    template.write_text(
        text.replace("\nResources:\n", "\nResources:\n  UnnamedQueue:\n    Type: AWS::SQS::Queue\n", 1)
    )

    with pytest.raises(TemplateError, match="UnnamedQueue"):
        create_resources(template_path=template)


# ---------------------------------------------------------------- make package + cfn-lint


def _repo_copy(destination: Path) -> Path:
    """The repository without its venv, VCS data and build output; app.py stubbed if missing."""
    ignored = shutil.ignore_patterns(
        ".venv", ".git", "build", "__pycache__", "*_cache", ".import_linter_cache", "node_modules"
    )
    copy = destination / "repo"
    shutil.copytree(REPO, copy, ignore=ignored)
    shutil.rmtree(copy / "chalicelib" / "interviews", ignore_errors=True)
    (copy / "interviews").mkdir(exist_ok=True)
    if not (copy / "app.py").exists():
        (copy / "app.py").write_text(THROWAWAY_APP)
    return copy


def _run(command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **FAKE_AWS_ENV}
    env.pop("AWS_ENDPOINT_URL", None)
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=240, check=False)


def _is_arn_of_queue(value: Any, queues: set[str]) -> bool:
    if isinstance(value, dict) and set(value) == {"Fn::GetAtt"}:
        return value["Fn::GetAtt"][0] in queues and value["Fn::GetAtt"][1] == "Arn"
    if isinstance(value, dict) and set(value) == {"Fn::Sub"} and isinstance(value["Fn::Sub"], str):
        return value["Fn::Sub"] in {f"${{{queue}.Arn}}" for queue in queues}
    return False


@pytest.mark.slow
def test_package_merges_into_a_cfn_lint_clean_template(tmp_path: Path) -> None:
    if shutil.which("make") is None:
        pytest.fail("make is not installed; `make package` needs it (README.md, 'Deploying to AWS')")
    repo = _repo_copy(tmp_path)

    # The real `make package`, using this venv and skipping its install step.
    package = _run(["make", "-o", f"{VENV}/.installed", f"VENV={VENV}", "package"], cwd=repo)
    assert package.returncode == 0, package.stdout + package.stderr
    sam = repo / "build" / "sam.json"
    assert sam.is_file() and (repo / "build" / "deployment.zip").is_file()
    assert not (repo / "chalicelib" / "interviews").exists(), "make package must remove its copy"

    lint = _run([str(VENV / "bin" / "cfn-lint"), str(sam)], cwd=repo)
    assert lint.returncode == 0, lint.stdout + lint.stderr

    resources: dict[str, Any] = json.loads(sam.read_text())["Resources"]
    untyped = sorted(name for name, resource in resources.items() if "Type" not in resource)
    assert not untyped, f"infra/resources.yaml overrides {untyped}, which chalice package did not generate"
    queues = {name for name, resource in resources.items() if resource["Type"] == "AWS::SQS::Queue"}
    for name, resource in resources.items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        variables = resource["Properties"]["Environment"]["Variables"]
        assert {key: variables.get(key) for key in FUNCTION_ENVIRONMENT} == FUNCTION_ENVIRONMENT, (
            f"function {name}: give it `Environment: *function-environment` in infra/resources.yaml"
        )
        for event_name, event in (resource["Properties"].get("Events") or {}).items():
            if event["Type"] == "SQS":
                assert _is_arn_of_queue(event["Properties"]["Queue"], queues), (
                    f"{name}.Events.{event_name}: point Queue at a queue of infra/resources.yaml,"
                    ' e.g. `Queue: !Sub "${TaskQueue.Arn}"`'
                )
    template = json.loads(sam.read_text())
    assert "DefaultRole" not in resources, "Chalice's own role must be off (manage_iam_role: false)"
    functions = {name for name, r in resources.items() if r["Type"] == "AWS::Serverless::Function"}
    assert functions == set(ROLE_OF), "give every function its role in infra/resources.yaml and ROLE_OF"
    for name in functions:
        assert resources[name]["Properties"]["Role"] == {"Fn::GetAtt": [ROLE_OF[name], "Arn"]}, name
    assert_least_privilege(template)
    assert_server_key_is_read_from_one_parameter(template)
    assert_no_server_key_value(template)
