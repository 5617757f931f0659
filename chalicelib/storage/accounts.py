"""User accounts and API keys: the AccountStore port and its DynamoDB adapter.

`AccountStore` owns the rules (validation, hashing, lookups); a backend only
puts and gets records. Only hashes are stored: a password as salted scrypt, an
API key as its SHA-256, which is also the key of its item.

DynamoDB items live in the sessions' table: ``pk = "user#<email>"``,
``sk = "user"`` for a user, and ``pk = "apikey#<sha256>"``, ``sk = "apikey"``
for an API key. Neither carries ``interview`` or ``owner``, so they stay out of
the session indexes.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from chalicelib.storage import crypto
from chalicelib.storage.dynamodb import AwsClients, Item, aws_errors
from chalicelib.storage.errors import AccountError, StorageError
from chalicelib.storage.records import User

MIN_PASSWORD = 10
MAX_PASSWORD = 254
MIN_API_KEY = 16  # the key's SHA-256 is unsalted, so the key itself must be hard to guess
USER_ID_LENGTH = 16
RESERVED_PRIVILEGES = frozenset({"cron"})  # kept for a scheduler's own user (cron is not built): never granted


@dataclass(frozen=True)
class ApiKeyRecord:
    key_hash: str
    user_email: str
    name: str
    last_four: str


def _normalize_email(email: str) -> str:
    return email.strip().lower()


def _check_new_user(email: str, password: str, privileges: Sequence[str]) -> None:
    local, at, domain = email.partition("@")
    if not (local and at and domain):
        raise AccountError(f"expected an e-mail address like name@example.com, found {email!r}")
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise AccountError(
            f"a password must have {MIN_PASSWORD} to {MAX_PASSWORD} characters, found {len(password)}"
        )
    if not privileges:
        raise AccountError("a user needs at least one privilege, e.g. 'user'")
    reserved = RESERVED_PRIVILEGES.intersection(privileges)
    if reserved:
        raise AccountError(
            f"privilege {sorted(reserved)[0]!r} is reserved for scheduled tasks and cannot be given to a user"
        )


class AccountStore(ABC):
    """Users and their API keys. Subclasses implement the four record methods."""

    def create_user(
        self,
        email: str,
        password: str,
        privileges: Sequence[str] = ("user",),
        first_name: str = "",
        last_name: str = "",
    ) -> User:
        """Register a user; raises AccountError for a bad or taken e-mail, a
        password of the wrong length, or a reserved privilege."""
        email = _normalize_email(email)
        _check_new_user(email, password, privileges)
        user = User(
            id=crypto.random_token(USER_ID_LENGTH),
            email=email,
            privileges=tuple(privileges),
            first_name=first_name,
            last_name=last_name,
            password_hash=crypto.hash_password(password),
        )
        self._put_user(user)
        return user

    def get_user(self, email: str) -> User | None:
        return self._get_user(_normalize_email(email))

    def check_password(self, email: str, password: str) -> User | None:
        """The active user with this e-mail and password, else None.

        Takes as long for an unknown e-mail as for a wrong password."""
        user = self.get_user(email)
        if user is None:
            crypto.burn_password_check(password)
            return None
        if not crypto.verify_password(password, user.password_hash) or not user.active:
            return None
        return user

    def add_api_key(self, email: str, key: str, name: str = "") -> None:
        """Give the user an API key; only its hash and last four characters are kept."""
        email = _normalize_email(email)
        if len(key) < MIN_API_KEY:
            raise AccountError(f"an API key needs at least {MIN_API_KEY} random characters, found {len(key)}")
        if self._get_user(email) is None:
            raise AccountError(f"no user with e-mail {email!r}; create the user before giving it an API key")
        self._put_api_key(ApiKeyRecord(crypto.hash_api_key(key), email, name, key[-4:]))

    def user_for_api_key(self, key: str) -> User | None:
        """The active user owning `key`, else None."""
        record = self._get_api_key(crypto.hash_api_key(key))
        if record is None:
            return None
        user = self._get_user(record.user_email)
        return user if user is not None and user.active else None

    @abstractmethod
    def _put_user(self, user: User) -> None:
        """Store a new user; AccountError if the e-mail is taken."""

    @abstractmethod
    def _get_user(self, email: str) -> User | None:
        """The user with this (normalized) e-mail, or None."""

    @abstractmethod
    def _put_api_key(self, record: ApiKeyRecord) -> None:
        """Store a new API key record; AccountError if its hash is taken."""

    @abstractmethod
    def _get_api_key(self, key_hash: str) -> ApiKeyRecord | None:
        """The API key record with this hash, or None."""


def _user_key(email: str) -> Item:
    return {"pk": {"S": "user#" + email}, "sk": {"S": "user"}}


def _api_key_key(key_hash: str) -> Item:
    return {"pk": {"S": "apikey#" + key_hash}, "sk": {"S": "apikey"}}


def _user_to_item(user: User) -> Item:
    return {
        **_user_key(user.email),
        "id": {"S": user.id},
        "email": {"S": user.email},
        "privileges": {"L": [{"S": p} for p in user.privileges]},
        "first_name": {"S": user.first_name},
        "last_name": {"S": user.last_name},
        "active": {"BOOL": user.active},
        "password_hash": {"S": user.password_hash},
    }


def _user_from_item(item: Item) -> User:
    return User(
        id=item["id"]["S"],
        email=item["email"]["S"],
        privileges=tuple(p["S"] for p in item["privileges"]["L"]),
        first_name=item.get("first_name", {}).get("S", ""),
        last_name=item.get("last_name", {}).get("S", ""),
        active=item.get("active", {}).get("BOOL", True),
        password_hash=item.get("password_hash", {}).get("S", ""),
    )


class DynamoAccountStore(AccountStore):
    def __init__(self, table_name: str, client: Any = None) -> None:
        self.table_name = table_name
        self._aws = AwsClients(client)

    def _put_new(self, item: Item, action: str, taken: AccountError) -> None:
        def condition_failed(reasons: list[Item]) -> StorageError:
            return taken

        with aws_errors(f"{action} in table {self.table_name}", condition_failed):
            self._aws.dynamodb.put_item(
                TableName=self.table_name, Item=item, ConditionExpression="attribute_not_exists(pk)"
            )

    def _get(self, key: Item, action: str) -> Item | None:
        with aws_errors(f"{action} in table {self.table_name}"):
            response = self._aws.dynamodb.get_item(TableName=self.table_name, Key=key, ConsistentRead=True)
        item: Item | None = response.get("Item")
        return item

    def _put_user(self, user: User) -> None:
        taken = AccountError(f"a user with e-mail {user.email!r} exists; log in or use another e-mail")
        self._put_new(_user_to_item(user), f"creating user {user.email!r}", taken)

    def _get_user(self, email: str) -> User | None:
        item = self._get(_user_key(email), f"reading user {email!r}")
        return None if item is None else _user_from_item(item)

    def _put_api_key(self, record: ApiKeyRecord) -> None:
        item = {
            **_api_key_key(record.key_hash),
            "user_email": {"S": record.user_email},
            "name": {"S": record.name},
            "last_four": {"S": record.last_four},
        }
        taken = AccountError("this API key is already registered; generate a new key")
        self._put_new(item, f"adding an API key for {record.user_email!r}", taken)

    def _get_api_key(self, key_hash: str) -> ApiKeyRecord | None:
        item = self._get(_api_key_key(key_hash), "looking up an API key")
        if item is None:
            return None
        return ApiKeyRecord(
            key_hash=key_hash,
            user_email=item["user_email"]["S"],
            name=item.get("name", {}).get("S", ""),
            last_four=item.get("last_four", {}).get("S", ""),
        )
