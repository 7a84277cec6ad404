"""Embeddings request validation: OCI's extras are checked and upper-cased; bad values name the field."""

from typing import Any

import pytest

from oci_genai_gateway.core.apis import embeddings
from oci_genai_gateway.core.errors import InvalidRequest
from oci_genai_gateway.core.settings import Settings

SETTINGS = Settings.from_env(
    {"GATEWAY_REGION": "us-chicago-1", "GATEWAY_COMPARTMENT_ID": "ocid1.compartment.oc1..c"}
)


def parse(**body: Any) -> embeddings.EmbeddingRequest:
    return embeddings.parse({"model": "cohere.embed-v4.0", "input": "x", **body}, SETTINGS.target_of)


def test_extras_are_upper_cased_for_oci() -> None:
    call = parse(input_type="search_query", truncate="start", dimensions=256)
    assert call.params == {"input_type": "SEARCH_QUERY", "truncate": "START", "dimensions": 256}
    assert parse().params == {}


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"input_type": "poetry"}, "input_type"),
        ({"input_type": 3}, "input_type"),
        ({"truncate": "middle"}, "truncate"),
        ({"encoding_format": "int8"}, "encoding_format"),
        ({"dimensions": 0}, "dimensions"),
        ({"input": ""}, "input"),
        ({"input": [[1, 2]]}, "input"),
        ({"input": ["a"] * 2049}, "input"),
    ],
)
def test_bad_values_are_a_400_naming_the_field(body: dict[str, Any], param: str) -> None:
    with pytest.raises(InvalidRequest) as info:
        parse(**body)
    assert info.value.param == param
