from __future__ import annotations
import pytest
@pytest.mark.parametrize("name", ["actions.yml","actions-parameters.yml","reload.yml","response.yml","message.yml","exit.yml","persistent-task.yml"])
def test_dump(page, examples, name):
    r = page.goto(f"/interview?i={name}")
    print("\n=====", name, r.status, r.headers.get("content-type"), page.url)
    print(page.content())
