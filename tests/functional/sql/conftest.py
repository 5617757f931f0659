"""`fresh_aws` (tests/conftest.py) leaves the resources it made behind; tests/functional/api's fixture
empties moto after each test here too, so that later packages which create their own tables
(tests/functional/storage) find none left over."""

from tests.functional.api.conftest import _empty_moto_afterwards

__all__ = ["_empty_moto_afterwards"]  # an autouse fixture: imported here, it applies to this package
