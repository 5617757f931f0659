"""Create the AWS resources of ``infra/resources.yaml`` in the embedded AWS (moto).

``infra/resources.yaml`` is the one definition of the tables, buckets and queues
the app needs: ``make package`` merges it into the CloudFormation template that
deploys the app, and the local stack and the tests create the same resources
from it here. Locally a resource gets the name in :data:`LOCAL_NAMES` (its
logical id's stand-in for the name CloudFormation would generate); these are
also the defaults of ``chalicelib.settings.Settings`` and of the ``dev`` stage in
``.chalice/config.json``.

Handled resource types: ``AWS::DynamoDB::Table`` (keys, attributes, indexes,
billing mode, SSE, then TTL), ``AWS::S3::Bucket`` (encryption, public access
block, notifications to a queue), ``AWS::SQS::Queue`` (attributes, redrive policy),
``AWS::SNS::Topic`` and ``AWS::SNS::Subscription`` (protocol, endpoint, raw delivery) and
``AWS::KMS::Key`` (found again by its alias ``alias/<local name>``). Anything else in the
template (IAM, the Lambda function overrides) has no local counterpart and is
skipped. Resources are created in dependency order (a dead-letter queue before
the queue that names it), and creating them again is harmless.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import boto3
import yaml
from botocore.exceptions import ClientError

TEMPLATE_PATH = Path(__file__).resolve().parents[2] / "infra" / "resources.yaml"

#: Logical id in infra/resources.yaml -> the resource's name in the local stack.
LOCAL_NAMES: dict[str, str] = {
    "InterviewData": "InterviewData",
    "BlobBucket": "interview-blobs",
    "TaskQueue": "interview-tasks",
    "TaskDeadLetterQueue": "interview-tasks-dlq",
    "MailBucket": "interview-mail",
    "MailQueue": "interview-mail",
    "MailDeadLetterQueue": "interview-mail-dlq",
    "MailTopic": "interview-mail",
    "MailTopicSubscription": "interview-mail-subscription",
    "AlarmTopic": "interview-alarms",
    "DataKey": "interview-data",
}

DEFAULT_REGION = "us-east-1"

TABLE = "AWS::DynamoDB::Table"
BUCKET = "AWS::S3::Bucket"
QUEUE = "AWS::SQS::Queue"
TOPIC = "AWS::SNS::Topic"
SUBSCRIPTION = "AWS::SNS::Subscription"
KEY = "AWS::KMS::Key"

# CloudFormation AWS::SQS::Queue properties that are SQS queue attributes of the same name.
_QUEUE_ATTRIBUTES = (
    "ContentBasedDeduplication",
    "DelaySeconds",
    "FifoQueue",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "SqsManagedSseEnabled",
    "VisibilityTimeout",
)
_SUB_VARIABLE = re.compile(r"\$\{([A-Za-z0-9]+)(?:\.[A-Za-z0-9.]+)?\}")


class TemplateError(ValueError):
    """infra/resources.yaml holds something the local stack cannot reproduce."""


class CloudFormationLoader(yaml.SafeLoader):
    """A safe YAML loader that reads CloudFormation short tags.

    ``!Ref X`` becomes ``{"Ref": "X"}``, ``!GetAtt X.Arn`` becomes
    ``{"Fn::GetAtt": ["X", "Arn"]}`` and any other ``!Name v`` becomes
    ``{"Fn::Name": v}``: the long forms, as CloudFormation itself reads them.
    """


def _construct_intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = str(value).split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    elif isinstance(node, yaml.MappingNode):
        value = loader.construct_mapping(node, deep=True)
    else:  # pragma: no cover - yaml has no other node kinds
        raise TemplateError(f"unexpected YAML node for !{suffix}: {node!r}")
    key = suffix if suffix in ("Ref", "Condition") else f"Fn::{suffix}"
    return {key: value}


CloudFormationLoader.add_multi_constructor("!", _construct_intrinsic)


def load_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    """The template as plain data, with intrinsic functions in their long form."""
    with path.open(encoding="utf-8") as handle:
        template = yaml.load(handle, Loader=CloudFormationLoader)
    if not isinstance(template, dict) or not isinstance(template.get("Resources"), dict):
        raise TemplateError(f"{path} has no Resources mapping")
    return template


def local_resources(template: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The resources of ``template`` that the local stack creates, by logical id."""
    wanted = {TABLE, BUCKET, QUEUE, TOPIC, SUBSCRIPTION, KEY}
    found = {
        logical_id: resource
        for logical_id, resource in template["Resources"].items()
        if isinstance(resource, dict) and resource.get("Type") in wanted
    }
    unnamed = sorted(set(found) - set(LOCAL_NAMES))
    if unnamed:
        raise TemplateError(
            f"infra/resources.yaml defines {', '.join(unnamed)} but LOCAL_NAMES in"
            f" chalicelib/local/resources.py gives no local name for it"
        )
    return found


def create_resources(
    session_kwargs: dict[str, Any] | None = None, template_path: Path = TEMPLATE_PATH
) -> dict[str, str]:
    """Create every table, bucket and queue of the template; existing ones are fine.

    ``session_kwargs`` go to ``boto3.session.Session`` (``region_name``,
    credentials, ...); an ``endpoint_url`` among them goes to the clients instead
    (without it boto3 honours ``AWS_ENDPOINT_URL``, or ``moto.mock_aws`` intercepts).
    Returns logical id -> local table/bucket name, or queue URL.
    """
    kwargs = dict(session_kwargs or {})
    endpoint_url = kwargs.pop("endpoint_url", None)
    session = boto3.session.Session(**kwargs)
    region = session.region_name or DEFAULT_REGION

    def client(service: str) -> Any:
        return session.client(service, region_name=region, endpoint_url=endpoint_url)  # type: ignore[call-overload]

    creators: dict[str, Callable[[str, dict[str, Any]], dict[str, str]]] = {
        TABLE: _TableCreator(client("dynamodb")),
        BUCKET: _BucketCreator(client("s3"), region, client("sqs")),
        QUEUE: _QueueCreator(client("sqs")),
        TOPIC: _TopicCreator(client("sns")),
        SUBSCRIPTION: _SubscriptionCreator(client("sns")),
        KEY: _KeyCreator(client("kms")),
    }
    resources = local_resources(load_template(template_path))
    attributes = _Attributes()
    created: dict[str, str] = {}
    for logical_id in _dependency_order(resources):
        resource = resources[logical_id]
        properties = attributes.resolve(resource.get("Properties") or {})
        attributes[logical_id] = creators[resource["Type"]](LOCAL_NAMES[logical_id], properties)
        created[logical_id] = attributes[logical_id]["Ref"]
    return created


class _Attributes(dict[str, dict[str, str]]):
    """Logical id -> {"Ref": ..., "Arn": ..., ...} of the resources created so far."""

    def resolve(self, value: Any) -> Any:
        """``value`` with every Ref / Fn::GetAtt / Fn::Sub of a created resource replaced.

        References to anything else (pseudo parameters, resources without a local
        counterpart) are left as they are: the properties that use them are not
        reproduced locally.
        """
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, argument),) = value.items()
            if key == "Ref" and isinstance(argument, str):
                return self._get(argument, "Ref", value)
            if key == "Fn::GetAtt" and isinstance(argument, list) and len(argument) == 2:
                return self._get(str(argument[0]), str(argument[1]), value)
            if key == "Fn::Sub" and isinstance(argument, str):
                resolved = _SUB_VARIABLE.sub(self._substitute, argument)
                return value if "${" in resolved else resolved
        return {key: self.resolve(item) for key, item in value.items()}

    def _substitute(self, match: re.Match[str]) -> str:
        logical_id, _, attribute = match.group(0)[2:-1].partition(".")
        return str(self._get(logical_id, attribute or "Ref", match.group(0)))

    def _get(self, logical_id: str, attribute: str, unresolved: Any) -> Any:
        return self.get(logical_id, {}).get(attribute, unresolved)


def _references(value: Any) -> Iterator[str]:
    """Logical ids that ``value`` refers to through Ref, Fn::GetAtt or Fn::Sub."""
    if isinstance(value, list):
        for item in value:
            yield from _references(item)
    elif isinstance(value, dict):
        for key, argument in value.items():
            if key == "Ref" and isinstance(argument, str):
                yield argument
            elif key == "Fn::GetAtt" and isinstance(argument, list) and argument:
                yield str(argument[0])
            elif key == "Fn::Sub" and isinstance(argument, str):
                yield from _SUB_VARIABLE.findall(argument)
            else:
                yield from _references(argument)


def _dependency_order(resources: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Logical ids such that every resource comes after those it refers to."""
    order: list[str] = []
    visiting: set[str] = set()

    def visit(logical_id: str) -> None:
        if logical_id in order:
            return
        if logical_id in visiting:
            raise TemplateError(f"resources in infra/resources.yaml refer to each other via {logical_id}")
        visiting.add(logical_id)
        for other in _references(resources[logical_id].get("Properties")):
            if other in resources:
                visit(other)
        visiting.discard(logical_id)
        order.append(logical_id)

    for logical_id in sorted(resources):
        visit(logical_id)
    return order


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


class _TableCreator:
    def __init__(self, dynamodb: Any) -> None:
        self.dynamodb = dynamodb

    def __call__(self, name: str, properties: dict[str, Any]) -> dict[str, str]:
        request: dict[str, Any] = {
            "TableName": name,
            "KeySchema": properties["KeySchema"],
            "AttributeDefinitions": properties["AttributeDefinitions"],
            "BillingMode": properties.get("BillingMode", "PROVISIONED"),
        }
        for key in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes", "ProvisionedThroughput"):
            if key in properties:
                request[key] = properties[key]
        if "StreamSpecification" in properties:
            request["StreamSpecification"] = {"StreamEnabled": True, **properties["StreamSpecification"]}
        sse = properties.get("SSESpecification")
        if sse:
            request["SSESpecification"] = {"Enabled": bool(sse.get("SSEEnabled", False))}
        try:
            self.dynamodb.create_table(**request)
        except ClientError as error:
            if _error_code(error) != "ResourceInUseException":
                raise
        ttl = properties.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled"):
            self._enable_ttl(name, ttl["AttributeName"])
        arn = self.dynamodb.describe_table(TableName=name)["Table"]["TableArn"]
        return {"Ref": name, "Arn": str(arn)}

    def _enable_ttl(self, name: str, attribute: str) -> None:
        current = self.dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        if current.get("TimeToLiveStatus") in ("ENABLED", "ENABLING"):
            return
        self.dynamodb.update_time_to_live(
            TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": attribute}
        )


class _BucketCreator:
    def __init__(self, s3: Any, region: str, sqs: Any = None) -> None:
        self.s3 = s3
        self.region = region
        self.sqs = sqs

    def __call__(self, name: str, properties: dict[str, Any]) -> dict[str, str]:
        request: dict[str, Any] = {"Bucket": name}
        if self.region != "us-east-1":
            request["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
        try:
            self.s3.create_bucket(**request)
        except ClientError as error:
            if _error_code(error) != "BucketAlreadyOwnedByYou":
                raise
        encryption = properties.get("BucketEncryption", {}).get("ServerSideEncryptionConfiguration")
        if encryption:
            rules = [
                {"ApplyServerSideEncryptionByDefault": rule["ServerSideEncryptionByDefault"]}
                for rule in encryption
                if "ServerSideEncryptionByDefault" in rule
            ]
            self.s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={"Rules": rules})
        if "PublicAccessBlockConfiguration" in properties:
            self.s3.put_public_access_block(
                Bucket=name, PublicAccessBlockConfiguration=properties["PublicAccessBlockConfiguration"]
            )
        queues = properties.get("NotificationConfiguration", {}).get("QueueConfigurations")
        if queues:
            self._notify(name, queues)
        return {"Ref": name, "Arn": f"arn:aws:s3:::{name}", "DomainName": f"{name}.s3.amazonaws.com"}

    def _notify(self, name: str, queues: list[dict[str, Any]]) -> None:
        """Announce new objects on the queues; setting it up sends each queue an `s3:TestEvent`
        (as on AWS), taken off again here so that the queue holds only real notifications."""
        wanted = [{"QueueArn": q["Queue"], "Events": [q["Event"]]} for q in queues]
        current = self.s3.get_bucket_notification_configuration(Bucket=name).get("QueueConfigurations", [])
        if [(c["QueueArn"], c["Events"]) for c in current] == [(w["QueueArn"], w["Events"]) for w in wanted]:
            return
        self.s3.put_bucket_notification_configuration(Bucket=name,
                                                      NotificationConfiguration={"QueueConfigurations": wanted})
        if self.sqs is None:
            return
        for arn in {w["QueueArn"] for w in wanted}:
            url = self.sqs.get_queue_url(QueueName=str(arn).rsplit(":", 1)[-1])["QueueUrl"]
            messages = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                                VisibilityTimeout=0).get("Messages", [])
            for message in messages:
                if '"s3:TestEvent"' in message["Body"]:
                    self.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


class _QueueCreator:
    def __init__(self, sqs: Any) -> None:
        self.sqs = sqs

    def __call__(self, name: str, properties: dict[str, Any]) -> dict[str, str]:
        attributes = {
            key: _attribute_value(properties[key]) for key in _QUEUE_ATTRIBUTES if key in properties
        }
        if "RedrivePolicy" in properties:
            attributes["RedrivePolicy"] = _attribute_value(properties["RedrivePolicy"])
        try:
            url = str(self.sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"])
        except ClientError as error:
            if _error_code(error) not in ("QueueAlreadyExists", "QueueNameExists"):
                raise
            # It exists with other attributes (an older template): bring it up to date.
            url = str(self.sqs.get_queue_url(QueueName=name)["QueueUrl"])
            changeable = {k: v for k, v in attributes.items() if k not in ("FifoQueue",)}
            if changeable:
                self.sqs.set_queue_attributes(QueueUrl=url, Attributes=changeable)
        found = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
        arn = str(found["Attributes"]["QueueArn"])
        return {"Ref": url, "Arn": arn, "QueueName": name, "QueueUrl": url}


def _attribute_value(value: Any) -> str:
    """A CloudFormation property value as the string the SQS API wants."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


class _TopicCreator:
    def __init__(self, sns: Any) -> None:
        self.sns = sns

    def __call__(self, name: str, properties: dict[str, Any]) -> dict[str, str]:
        arn = str(self.sns.create_topic(Name=name)["TopicArn"])  # an existing topic: its ARN
        return {"Ref": arn, "TopicArn": arn, "TopicName": name}


class _SubscriptionCreator:
    def __init__(self, sns: Any) -> None:
        self.sns = sns

    def __call__(self, name: str, properties: dict[str, Any]) -> dict[str, str]:
        topic, protocol, endpoint = properties["TopicArn"], properties["Protocol"], properties["Endpoint"]
        current = self.sns.list_subscriptions_by_topic(TopicArn=topic).get("Subscriptions", [])
        found = [s["SubscriptionArn"] for s in current if (s["Protocol"], s["Endpoint"]) == (protocol, endpoint)]
        attributes = {"RawMessageDelivery": _attribute_value(properties.get("RawMessageDelivery", False))}
        if found:
            arn = str(found[0])
            self.sns.set_subscription_attributes(SubscriptionArn=arn, AttributeName="RawMessageDelivery",
                                                 AttributeValue=attributes["RawMessageDelivery"])
        else:
            arn = str(self.sns.subscribe(TopicArn=topic, Protocol=protocol, Endpoint=endpoint,
                                         Attributes=attributes, ReturnSubscriptionArn=True)["SubscriptionArn"])
        return {"Ref": arn}


class _KeyCreator:
    """A KMS key, named by the alias `alias/<local name>` so that creating it again finds it."""

    def __init__(self, kms: Any) -> None:
        self.kms = kms

    def __call__(self, name: str, properties: dict[str, Any]) -> dict[str, str]:
        alias = f"alias/{name}"
        try:
            key = self.kms.describe_key(KeyId=alias)["KeyMetadata"]
        except ClientError as error:
            if _error_code(error) != "NotFoundException":
                raise
            key = self.kms.create_key(Description=str(properties.get("Description", name)))["KeyMetadata"]
            self.kms.create_alias(AliasName=alias, TargetKeyId=key["KeyId"])
        return {"Ref": str(key["KeyId"]), "Arn": str(key["Arn"])}
