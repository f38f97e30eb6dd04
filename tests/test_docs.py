"""/docs and /redoc work on an intranet: every asset comes from the service itself."""

import re

import pytest

ASSET = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']|url:\s*['"]([^'"]+)['"]""")


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_api_documentation_loads_nothing_from_another_host(client, page):
    response = client.get(page)
    assert response.status_code == 200
    html = response.text

    urls = [a or b for a, b in ASSET.findall(html)]
    assert urls, html
    assert not re.search(r"https?://|//[a-z]", html.replace("http://www.w3.org", ""))
    for url in urls:
        assert url.startswith("/"), url
        assert client.get(url).status_code == 200, url


def test_unknown_paths_and_methods_answer_in_the_error_body(client):
    missing = client.get("/api/v1/nothing-here")
    wrong = client.delete("/api/v1/reports")
    english = client.get("/api/v1/nothing-here", headers={"Accept-Language": "en"})

    assert missing.status_code == 404
    assert missing.json() == {
        "detail": "没有这个地址：请对照 /docs 中的接口列表检查路径",
        "code": "path_not_found",
    }
    assert english.json() == {
        "detail": "no such path: check it against the list of endpoints at /docs",
        "code": "path_not_found",
    }
    assert wrong.status_code == 405
    assert wrong.json()["code"] == "method_not_allowed"
