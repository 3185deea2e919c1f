"""The OpenAPI document describes what the endpoint really does; no input gives a 500."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import suggestion_body

PATH = "/api/v1/suggestions"
BODY_FIELDS = (
    "id",
    "site",
    "kind",
    "article",
    "quote",
    "replacement",
    "comment",
    "reporter",
    "website",
)


def resolve(spec: dict, schema: dict) -> dict:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = spec["components"]["schemas"][name]
    return schema


def test_openapi_document_is_served(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.get_json()
    assert spec["openapi"].startswith("3.")
    post = spec["paths"][PATH]["post"]
    assert set(post["responses"]) == {
        "200",
        "201",
        "400",
        "403",
        "404",
        "409",
        "413",
        "422",
        "429",
        "503",
    }
    body = resolve(spec, post["requestBody"]["content"]["application/json"]["schema"])
    assert set(body["required"]) == {"id", "site", "article"}
    assert set(body["properties"]) == set(BODY_FIELDS)
    assert resolve(spec, body["properties"]["kind"])["enum"] == [
        "typo",
        "factual",
        "unclear",
        "other",
    ]


def test_documented_shapes_match_answers(site, client, post_suggestion):
    spec = client.get("/api/v1/openapi.json").get_json()
    responses = spec["paths"][PATH]["post"]["responses"]
    created = post_suggestion(suggestion_body()).get_json()
    documented = resolve(spec, responses["201"]["content"]["application/json"]["schema"])
    assert set(created) == set(documented["properties"])
    error = post_suggestion(suggestion_body(kind="x")).get_json()
    error_schema = resolve(spec, responses["422"]["content"]["application/json"]["schema"])
    assert set(error) == set(error_schema["properties"])
    inner = resolve(spec, error_schema["properties"]["error"])
    assert set(error["error"]) == set(inner["properties"])


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    field=st.sampled_from(
        [
            *BODY_FIELDS,
            "article.url",
            "article.text",
            "quote.exact",
            "quote.start",
            "quote.end",
            "reporter.email",
            "reporter.notify",
        ]
    ),
    value=json_values,
)
def test_no_field_value_causes_a_server_error(site, post_suggestion, field, value):
    body = suggestion_body(reporter={"name": "Ann", "email": "ann@example.net"})
    target = body
    *parents, leaf = field.split(".")
    for parent in parents:
        target = target[parent]
    target[leaf] = value
    response = post_suggestion(body)
    assert response.status_code in {200, 201, 400, 404, 409, 422}, response.get_json()
    if response.status_code >= 400:
        assert set(response.get_json()["error"]) == {"code", "message", "fields", "field_codes"}
