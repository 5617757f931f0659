"""Shared records (issue 13 §3, part): write_record / read_records / delete_record, shared by
every session, in order of their ids; signed, so a row changed in the table is left out.

Interview: tests/fixtures/interviews/records_guestbook.yml.
"""

from __future__ import annotations

from typing import Any

from tests.conftest import Api
from tests.functional.api.helpers import ApiSession, ok_json

INTERVIEW = "records_guestbook.yml"


def sign(api: Api, name: str) -> ApiSession:
    data = api.new_session(INTERVIEW)
    session = ApiSession(api, INTERVIEW, data["session"], data["secret"])
    ok_json(session.set({"guest": name}))
    return session


def test_every_session_reads_the_rows_all_sessions_wrote_in_order(api: Api) -> None:
    ada = sign(api, "Ada")
    grace = sign(api, "Grace")
    assert ok_json(grace.question())["questionText"].strip() == "Signed: Ada and Grace"
    assert ok_json(ada.question())["questionText"].strip() == "Signed: Ada and Grace"
    assert (ok_json(ada.variables())["my_entry"], ok_json(grace.variables())["my_entry"]) == (1, 2)

    # Deleting a row takes it out for everyone
    ok_json(ada.set({"unsign": True}))
    assert ok_json(grace.question())["questionText"].strip() == "Signed: Grace"


def test_a_row_changed_in_the_table_is_left_out(api: Api, services: Any, fresh_aws: dict[str, Any]) -> None:
    sign(api, "Ada")
    grace = sign(api, "Grace")
    table = services.settings.table_name
    rows = fresh_aws["dynamodb"].query(TableName=table, KeyConditionExpression="pk = :pk",
                                       ExpressionAttributeValues={":pk": {"S": "record#tests:guestbook"}})["Items"]
    first = next(r for r in rows if r["sk"]["S"].endswith("000000000001"))
    first["blob"] = {"B": first["blob"]["B"][:-1] + bytes([first["blob"]["B"][-1] ^ 1])}
    fresh_aws["dynamodb"].put_item(TableName=table, Item=first)
    ok_json(grace.set({"guest": "Grace"}))  # a new turn reads the rows again
    assert ok_json(grace.question())["questionText"].strip() == "Signed: Grace"
