"""User accounts and API keys: the AccountStore port and its DynamoDB adapter.

`AccountStore` owns the rules (validation, hashing, lookups); a backend only
puts and gets records. Only hashes are stored: a password as salted scrypt, an
API key as its SHA-256, which is also the key of its item.

DynamoDB items live in the sessions' table: ``pk = "user#<email>"``,
``sk = "user"`` for a user, and ``pk = "apikey#<sha256>"``, ``sk = "apikey"``
for an API key. Neither carries ``interview`` or ``owner``, so they stay out of
the session indexes.

Each user also has an own random key (`USER_KEY_BYTES`), the key that opens the
user's encrypted sessions. It is stored only wrapped (AES-GCM) under a key
stretched from the password with scrypt, so a password change re-wraps one key
and a reset without the old password gives a fresh one (old sessions stay shut).

Attempt counters (rate limits of sign-in and password resets) are items
``pk = "attempts#<sha256 of what is counted>"``, ``sk = "<window start>"``, with
``expires_at`` so the table's TTL removes them.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from chalicelib.storage import crypto
from chalicelib.storage.dynamodb import AwsClients, Item, aws_errors
from chalicelib.storage.errors import AccountError, StorageError
from chalicelib.storage.records import User

MIN_PASSWORD = 10
MAX_PASSWORD = 254
MIN_API_KEY = 16  # the key's SHA-256 is unsalted, so the key itself must be hard to guess
USER_ID_LENGTH = 16
USER_KEY_BYTES = 32
MIN_DISTINCT_CHARACTERS = 5  # "aaaaaaaaaa" or "1212121212" is long but not a password
_COMMON_PASSWORDS = frozenset({
    "password123", "password12", "1234567890", "0123456789", "qwertyuiop", "12345678910", "passw0rd123",
    "iloveyou12", "password1234", "abcdefghij", "qwerty1234", "1q2w3e4r5t", "letmein123", "welcome123",
})
RESERVED_PRIVILEGES = frozenset({"cron"})  # kept for a scheduler's own user (cron is not built): never granted


@dataclass(frozen=True)
class ApiKeyRecord:
    key_hash: str
    user_email: str
    name: str
    last_four: str


def _normalize_email(email: str) -> str:
    return email.strip().lower()


def check_password_strength(password: str, email: str = "") -> None:
    """The one rule for a new password (registration, change, reset, POST /api/user/new):
    AccountError saying what is wrong and what to do."""
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise AccountError(
            f"a password must have {MIN_PASSWORD} to {MAX_PASSWORD} characters, found {len(password)}"
        )
    if len(set(password)) < MIN_DISTINCT_CHARACTERS:
        raise AccountError(f"a password needs at least {MIN_DISTINCT_CHARACTERS} different characters;"
                           " choose a longer phrase")
    lowered = password.lower()
    email = _normalize_email(email)
    if lowered in _COMMON_PASSWORDS or lowered in {email, email.partition("@")[0]}:
        raise AccountError("this password is too easy to guess (a common one, or your e-mail); choose another")


def _check_email(email: str) -> None:
    local, at, domain = email.partition("@")
    if not (local and at and domain) or len(email) > 254 or any(c.isspace() for c in email):
        raise AccountError(f"expected an e-mail address like name@example.com, found {email[:254]!r}")


def _check_new_user(email: str, password: str, privileges: Sequence[str]) -> None:
    _check_email(email)
    check_password_strength(password, email)
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
        active: bool = True,
    ) -> User:
        """Register a user; raises AccountError for a bad or taken e-mail, a
        password of the wrong length, or a reserved privilege."""
        email = _normalize_email(email)
        _check_new_user(email, password, privileges)
        user_id = crypto.random_token(USER_ID_LENGTH)
        user = User(
            id=user_id,
            email=email,
            privileges=tuple(privileges),
            first_name=first_name[:200],
            last_name=last_name[:200],
            active=active,
            password_hash=crypto.hash_password(password),
        )
        user = _with_key(user, os.urandom(USER_KEY_BYTES), password)
        self._put_user(user)
        return user

    def unlock(self, user: User, password: str) -> bytes:
        """The user's own key, unwrapped with the (already checked) password. A user stored
        without one (made before keys existed) gets a fresh key now."""
        if not user.wrapped_key:
            key = os.urandom(USER_KEY_BYTES)
            self._replace_user(_with_key(user, key, password), user.password_hash)
            return key
        wrapping = crypto.password_key(password, user.key_salt)
        key = crypto.unwrap_key(user.wrapped_key, wrapping, _key_aad(user.id))
        if not user.key_check:  # stored before key checks were kept: record it once
            try:
                self._replace_user(replace(user, key_check=crypto.key_check(key)), user.password_hash)
            except AccountError:
                pass  # the password changed meanwhile: that change recorded the check
        return key

    @staticmethod
    def owns_key(user: User, key: bytes) -> bool:
        """Whether `key` is the user's own key (its check matches the stored one; constant time)."""
        return bool(user.key_check) and crypto.key_check_matches(key, user.key_check)

    def change_password(self, email: str, old: str, new: str) -> bytes | None:
        """Set a new password, keeping the user's key (re-wrapped): every session stays readable.
        None when `old` is wrong; AccountError for a weak `new`."""
        user = self.check_password(email, old)
        if user is None:
            return None
        check_password_strength(new, user.email)
        key = self.unlock(user, old)
        current = self.get_user(email) or user
        changed = replace(current, password_hash=crypto.hash_password(new))
        self._replace_user(_with_key(changed, key, new), current.password_hash)
        return key

    def reset_password(self, email: str, new: str, expected_hash: str) -> bytes:
        """Set a new password without the old one: the user gets a fresh key, so sessions sealed
        under the old key can no longer be opened. Only if the password is still the one whose
        hash is `expected_hash` (a reset link works once). AccountError otherwise."""
        user = self.get_user(email)
        if user is None or user.password_hash != expected_hash:
            raise AccountError("this reset link was already used or the password has changed since")
        check_password_strength(new, user.email)
        key = os.urandom(USER_KEY_BYTES)
        changed = replace(user, password_hash=crypto.hash_password(new))
        self._replace_user(_with_key(changed, key, new), expected_hash)
        return key

    def activate(self, email: str) -> User | None:
        """Mark the user's e-mail as confirmed (the account may sign in); None when there is no such user."""
        user = self.get_user(email)
        if user is None or user.active:
            return user
        activated = replace(user, active=True)
        self._replace_user(activated, user.password_hash)
        return activated

    def count_attempt(self, what: str, window_seconds: int, now: float) -> int:
        """Count one attempt at `what` (e.g. "sign-in:user:<email>") in the current window of
        `window_seconds`; the number of attempts in it so far, this one included."""
        digest = crypto.hash_api_key(what)  # a fixed-size key, whatever was sent
        start = int(now // window_seconds) * window_seconds
        return self._count("attempts#" + digest, str(start), start + 2 * window_seconds)

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
    def _replace_user(self, user: User, expected_hash: str) -> None:
        """Store `user` over the stored one, only if that one's password hash is still
        `expected_hash`; AccountError otherwise (the password changed meanwhile)."""

    @abstractmethod
    def _count(self, pk: str, sk: str, expires_at: int) -> int:
        """Add one to a counter item and return its new value."""

    @abstractmethod
    def _put_api_key(self, record: ApiKeyRecord) -> None:
        """Store a new API key record; AccountError if its hash is taken."""

    @abstractmethod
    def _get_api_key(self, key_hash: str) -> ApiKeyRecord | None:
        """The API key record with this hash, or None."""


def _key_aad(user_id: str) -> bytes:
    return f"user-key:{user_id}".encode()


def _with_key(user: User, key: bytes, password: str) -> User:
    salt = os.urandom(16)
    wrapped = crypto.wrap_key(key, crypto.password_key(password, salt), _key_aad(user.id))
    return replace(user, wrapped_key=wrapped, key_salt=salt, key_check=crypto.key_check(key))


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
        **({"wrapped_key": {"B": user.wrapped_key}, "key_salt": {"B": user.key_salt}} if user.wrapped_key else {}),
        **({"key_check": {"S": user.key_check}} if user.key_check else {}),
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
        wrapped_key=bytes(item.get("wrapped_key", {}).get("B", b"")),
        key_salt=bytes(item.get("key_salt", {}).get("B", b"")),
        key_check=item.get("key_check", {}).get("S", ""),
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

    def _replace_user(self, user: User, expected_hash: str) -> None:
        def moved(reasons: list[Item]) -> StorageError:
            return AccountError("the password was changed meanwhile; sign in again")

        with aws_errors(f"updating user {user.email!r} in table {self.table_name}", moved):
            self._aws.dynamodb.put_item(
                TableName=self.table_name, Item=_user_to_item(user),
                ConditionExpression="password_hash = :h", ExpressionAttributeValues={":h": {"S": expected_hash}})

    def _count(self, pk: str, sk: str, expires_at: int) -> int:
        with aws_errors(f"counting an attempt in table {self.table_name}"):
            response = self._aws.dynamodb.update_item(
                TableName=self.table_name, Key={"pk": {"S": pk}, "sk": {"S": sk}},
                UpdateExpression="ADD #n :one SET expires_at = :e",
                ExpressionAttributeNames={"#n": "count"},
                ExpressionAttributeValues={":one": {"N": "1"}, ":e": {"N": str(expires_at)}},
                ReturnValues="UPDATED_NEW")
        return int(response["Attributes"]["count"]["N"])

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
