"""The Chalice app: routes come from blueprints; handlers stay thin.

Deployed as API Gateway → Lambda. `make run` serves the same app locally
(chalicelib.local); tests drive it with chalice.test.Client.
"""

from __future__ import annotations

import logging
from typing import Any

from chalice import Chalice, Cron
from chalice.app import CloudWatchEvent, SQSEvent

from chalicelib.language.blocks import CONTENT_TYPES
from chalicelib.runtime import mail_in, worker
from chalicelib.runtime.cron import Cron as CronPass
from chalicelib.settings import DEFAULT_MAIL_QUEUE, DEFAULT_TASK_QUEUE
from chalicelib.web import context
from chalicelib.web.account_routes import bp as account_bp
from chalicelib.web.api_routes import bp as api_bp
from chalicelib.web.checkin_routes import bp as checkin_bp
from chalicelib.web.file_responses import BINARY_TYPES
from chalicelib.web.interview_routes import bp as interview_bp

app = Chalice(app_name="serverless-interviews")
app.api.binary_types.extend(CONTENT_TYPES.values())  # assembled documents are served as bytes
app.api.binary_types.extend(BINARY_TYPES)  # so are uploaded files, and forms that carry them arrive as bytes
app.log.setLevel(logging.INFO)
logging.getLogger("chalicelib").setLevel(logging.INFO)
app.register_blueprint(interview_bp)
app.register_blueprint(checkin_bp)
app.register_blueprint(api_bp)
app.register_blueprint(account_bp)


@app.on_sqs_message(queue=DEFAULT_TASK_QUEUE, batch_size=10)
def run_tasks(event: SQSEvent) -> dict[str, Any]:
    """The background worker: one SQS batch of task messages."""
    return worker.handle_sqs_event(context.worker(), event.to_dict())


@app.on_sqs_message(queue=DEFAULT_TASK_QUEUE + "-dlq", batch_size=10)
def fail_abandoned_tasks(event: SQSEvent) -> dict[str, Any]:
    """Messages the worker never finished: fail their tasks, so none hangs."""
    return worker.handle_dead_letters(context.worker(), event.to_dict())


@app.on_sqs_message(queue=DEFAULT_MAIL_QUEUE, batch_size=10)
def receive_mail(event: SQSEvent) -> dict[str, Any]:
    """Inbound mail: S3 notifications of raw mails that SES (or `make run`'s SMTP server) stored."""
    return mail_in.handle_sqs_event(context.mail_in(), event.to_dict())


# Scheduled passes (docassemble's cron): each queues one run per cron-enabled session whose
# interview defines the event; the worker above runs them. The local stack fires the same
# handlers on its own clock; POST /api/cron runs one now.
def _scheduled_pass(event: str) -> dict[str, Any]:
    return {"queued": CronPass(context.sessions()).scheduled_pass(event)}


@app.schedule(Cron(0, "*", "*", "*", "?", "*"), name="cron_hourly")  # on the hour (UTC)
def cron_hourly(event: CloudWatchEvent) -> dict[str, Any]:
    return _scheduled_pass("cron_hourly")


@app.schedule(Cron(0, 0, "*", "*", "?", "*"), name="cron_daily")  # at midnight UTC
def cron_daily(event: CloudWatchEvent) -> dict[str, Any]:
    return _scheduled_pass("cron_daily")


@app.schedule(Cron(0, 0, "?", "*", "SUN", "*"), name="cron_weekly")  # Sundays at midnight UTC
def cron_weekly(event: CloudWatchEvent) -> dict[str, Any]:
    return _scheduled_pass("cron_weekly")


@app.schedule(Cron(0, 0, 1, "*", "?", "*"), name="cron_monthly")  # the 1st at midnight UTC
def cron_monthly(event: CloudWatchEvent) -> dict[str, Any]:
    return _scheduled_pass("cron_monthly")
