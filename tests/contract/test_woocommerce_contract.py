"""Contract: the WooCommerce connector and the double against WooCommerce's REST API v3.

There is no machine-readable WooCommerce spec in ``../shared/specs``, so the shapes are
written down here as JSON Schemas, from the REST API docs (products, product variations,
batch) and from WooCommerce's REST controllers (``WC_REST_Controller::batch_items`` and
``check_batch_limit``; WordPress's error body ``{"code", "message", "data": {"status"}}``):

* a batch body is ``{"create"?: [...], "update"?: [...], "delete"?: [ids]}`` with at most
  100 objects in all, else HTTP 413 ``woocommerce_rest_request_entity_too_large``;
* prices are strings (``regular_price``, ``sale_price``), ``stock_quantity`` an integer,
  ``manage_stock`` a boolean;
* a batch answers HTTP 200 whose ``update`` holds, per object, the resource or
  ``{"id", "error": {"code", "message", "data": {"status"}}}``;
* lists are JSON arrays paged by ``X-WP-Total`` / ``X-WP-TotalPages``, 100 per page at most;
* WooCommerce 10.3+ lists every product's variations at ``GET /variations``
  (``WC_REST_Variations_Controller``: the collection parameters of
  ``/products/{id}/variations``, each item with its ``parent_id``); an older shop has no
  such route and answers WordPress's 404 ``rest_no_route``;
* content: ``description`` and ``weight`` are strings; a product has ``images`` (featured
  first, then the gallery), a variation one ``image`` object or null; images are written
  as ``{"src": url}`` (downloaded by the shop) or ``{"id": attachment}``
  (``set_product_images`` / ``set_variation_image``), an image the shop cannot fetch
  failing its object with ``woocommerce_product_image_upload_error`` (variations:
  ``woocommerce_variation_image_upload_error``); a product's ``description`` is answered
  as stored only with ``context=edit`` (``view`` runs it through ``wpautop``);
* a description written is stored through ``wp_filter_post_kses`` (``wp_kses``'s
  ``wp_kses_normalize_entities``, ``wp_kses_split2``, ``wp_kses_attr``, ``wp_kses_hair``
  in ``wp-includes/kses.php``): entities normalised, tags rebuilt, elements outside the
  post allowlist removed with their text kept;
* a variation reads its ``weight`` and ``image`` through ``get_weight()`` /
  ``get_image_id()`` in view context, which answer the parent's when the variation's
  own is PHP-``empty()`` ("" and "0", not "0.0"), so a zero weight must not go as "0".

The last tests feed the connector answers written the way a real shop sends them (not
from the double): entries out of order, ids echoed as strings, PHP notices before the
JSON, ``manage_stock: "parent"`` on variations.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jsonschema
import pytest
import requests
from requests.adapters import BaseAdapter

from feedsync.domain.content import description_digest
from feedsync.domain.fields import PRODUCT_ID, VARIANT_ID, VARIANT_POS
from feedsync.domain.writes import PlanItem
from feedsync.platforms.woocommerce.connector import WooCommerceConnector
from feedsync_local.woo_double import WooCommerceDouble

PRICE = {"type": "string", "pattern": r"^(\d+\.\d{2})?$"}
IMAGE_REF = {
    "type": "object",
    "minProperties": 1,
    "additionalProperties": False,
    "properties": {
        "id": {"type": "integer", "minimum": 1},
        "src": {"type": "string", "pattern": r"^https?://"},
    },
}
IMAGE = {
    "type": "object",
    "required": ["id", "src", "name", "alt", "date_created_gmt"],
    "properties": {
        "id": {"type": "integer", "minimum": 1},
        "src": {"type": "string", "pattern": r"^https?://"},
        "name": {"type": "string"},
        "alt": {"type": "string"},
        "date_created_gmt": {"type": "string"},
    },
}
UPDATE_OBJECT = {
    "type": "object",
    "required": ["id"],
    "additionalProperties": False,
    "properties": {
        "id": {"type": "integer", "minimum": 1},
        "regular_price": PRICE,
        "sale_price": PRICE,
        "manage_stock": {"type": "boolean"},
        "stock_quantity": {"type": "integer"},
        "name": {"type": "string", "minLength": 1},
        "description": {"type": "string"},
        "weight": {"type": "string", "pattern": r"^(\d+(\.\d+)?)?$"},
        "images": {"type": "array", "items": IMAGE_REF},
        "image": IMAGE_REF,
    },
}
BATCH_REQUEST = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "create": {"type": "array", "items": {"type": "object"}},
        "update": {"type": "array", "items": UPDATE_OBJECT, "maxItems": 100},
        "delete": {"type": "array", "items": {"type": "integer"}},
    },
}
WP_ERROR = {
    "type": "object",
    "required": ["code", "message", "data"],
    "properties": {
        "code": {"type": "string"},
        "message": {"type": "string"},
        "data": {
            "type": "object",
            "required": ["status"],
            "properties": {"status": {"type": "integer"}},
        },
    },
}
RESOURCE = {
    "type": "object",
    "required": [
        "id",
        "sku",
        "price",
        "regular_price",
        "sale_price",
        "manage_stock",
        "stock_quantity",
        "date_modified_gmt",
        "description",
        "weight",
    ],
    "properties": {
        "id": {"type": "integer"},
        "name": {"type": "string"},
        "sku": {"type": "string"},
        "global_unique_id": {"type": "string"},
        "price": {"type": "string"},
        "regular_price": {"type": "string"},
        "sale_price": {"type": "string"},
        "manage_stock": {"type": ["boolean", "string"]},
        "stock_quantity": {"type": ["integer", "null"]},
        "date_modified_gmt": {
            "type": "string",
            "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$",
        },
        "variations": {"type": "array", "items": {"type": "integer"}},
        "description": {"type": "string"},
        "weight": {"type": "string"},
        "dimensions": {
            "type": "object",
            "required": ["length", "width", "height"],
            "additionalProperties": {"type": "string"},
        },
        "images": {"type": "array", "items": IMAGE},
        "image": {"oneOf": [{"type": "null"}, IMAGE]},
    },
}
ITEM_ERROR = {
    "type": "object",
    "required": ["id", "error"],
    "properties": {"id": {}, "error": WP_ERROR},
}
BATCH_RESPONSE = {
    "type": "object",
    "properties": {
        "update": {"type": "array", "items": {"oneOf": [ITEM_ERROR, RESOURCE]}},
    },
}
LIST_RESPONSE = {"type": "array", "items": RESOURCE, "maxItems": 100}
STORE_VARIATION = {
    "allOf": [
        RESOURCE,
        {
            "type": "object",
            "required": ["parent_id"],
            "properties": {"parent_id": {"type": "integer", "minimum": 0}},
            "not": {"required": ["variations"]},
        },
    ]
}
VARIATIONS_LIST_RESPONSE = {"type": "array", "items": STORE_VARIATION, "maxItems": 100}
OLD_VARIATION = {"date_modified_gmt": "2024-01-01T00:00:00"}
NO_ROUTE = {
    "code": "rest_no_route",
    "message": "No route was found matching the URL and request method.",
    "data": {"status": 404},
}

Exchange = tuple[requests.PreparedRequest, requests.Response]


class RecordingSession(requests.Session):
    """A real session that keeps every (request, response) pair."""

    def __init__(self) -> None:
        super().__init__()
        self.exchanges: list[Exchange] = []

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        response = super().send(request, **kwargs)
        self.exchanges.append((request, response))
        return response


@pytest.fixture
def double() -> Iterator[WooCommerceDouble]:
    with WooCommerceDouble() as shop:
        yield shop


def _connector(double: WooCommerceDouble, session: requests.Session) -> WooCommerceConnector:
    key, secret = double.credentials
    return WooCommerceConnector(
        double.site_url,
        key,
        secret,
        session=session,
        allow_http=True,
        sleep=lambda s: None,
        allow_private=True,
    )


def _item(pid: int, vid: int, **changes: list[Any]) -> PlanItem:
    return PlanItem(row=1, key="k", product_id=pid, variant_id=vid, changes=changes)


def _post(double: WooCommerceDouble, path: str, body: Any) -> requests.Response:
    return requests.post(f"{double.api_url}{path}", json=body, auth=double.credentials, timeout=10)


def _path(request: requests.PreparedRequest) -> str:
    return urlsplit(request.url or "").path


# -- what the connector sends -----------------------------------------------------------------
def test_batch_requests_have_the_woocommerce_shape_and_limits(double: WooCommerceDouble) -> None:
    # Given simple products and a variable product
    simple = double.seed([{"name": f"P{i}", "regular_price": "5.00"} for i in range(100)])
    [parent] = double.seed(
        [
            {
                "name": "V",
                "variations": [{"sku": f"V-{j}", "regular_price": "7.00"} for j in range(3)],
            }
        ]
    )
    session = RecordingSession()
    connector = _connector(double, session)

    # When a full products batch and a variations batch are applied
    connector.apply(
        "products_batch",
        [
            _item(p["id"], p["id"], price=[500, 650], sale_price=[None, 499], stock=[0, 4])
            for p in simple
        ],
        batch_key="k1",
    )
    connector.apply(
        "variations_batch",
        [_item(parent["id"], vid, price=[700, 1001], stock=[0, 2]) for vid in parent["variations"]],
        batch_key="k2",
    )

    # Then each request is a POST of {"update": [...]} (<= 100) to the documented path,
    # JSON, with Basic auth carrying the consumer key and secret
    assert len(session.exchanges) == 2
    paths = [_path(r) for r, _ in session.exchanges]
    assert paths == [
        "/wp-json/wc/v3/products/batch",
        f"/wp-json/wc/v3/products/{parent['id']}/variations/batch",
    ]
    expected_auth = "Basic " + base64.b64encode(":".join(double.credentials).encode()).decode()
    for request, response in session.exchanges:
        assert request.method == "POST"
        assert request.headers["Content-Type"] == "application/json"
        assert request.headers["Authorization"] == expected_auth
        body = json.loads(request.body or b"")
        jsonschema.validate(body, BATCH_REQUEST)
        assert list(body) == ["update"]
        assert response.status_code == 200
        jsonschema.validate(response.json(), BATCH_RESPONSE)
    first = json.loads(session.exchanges[0][0].body or b"")["update"][0]
    assert first == {
        "id": simple[0]["id"],
        "regular_price": "6.50",
        "sale_price": "4.99",
        "manage_stock": True,
        "stock_quantity": 4,
    }
    assert len(json.loads(session.exchanges[0][0].body or b"")["update"]) == 100


def test_content_writes_have_the_woocommerce_shape(double: WooCommerceDouble) -> None:
    # Given a simple product and a variable product with a variation
    [simple, parent] = double.seed(
        [
            {"name": "Poster", "regular_price": "5.00"},
            {"name": "Tee", "variations": [{"sku": "TEE-S", "regular_price": "7.00"}]},
        ]
    )
    [vid] = parent["variations"]
    session = RecordingSession()
    connector = _connector(double, session)
    text = "<p>Soft &amp; warm</p>"

    # When the product fields, a simple product's and a variation's weight and image go
    results = [
        *connector.apply(
            "product_fields",
            [_item(parent["id"], vid, name=["Tee", "Soft tee"], description=[None, text])],
            batch_key="k1",
        ),
        *connector.apply(
            "products_batch",
            [
                _item(
                    simple["id"],
                    simple["id"],
                    weight=[None, "0.250"],
                    image_url=[None, "https://cdn.example/p.jpg"],
                )
            ],
            batch_key="k2",
        ),
        *connector.apply(
            "variations_batch",
            [
                _item(
                    parent["id"],
                    vid,
                    weight=[None, "0.2"],
                    image_url=[None, "https://cdn.example/s.jpg"],
                )
            ],
            batch_key="k3",
        ),
    ]

    # Then each body holds the documented fields: a product's images as a list, a
    # variation's image as one object, the weight as a string
    assert results == [(True, "")] * 3
    bodies = [json.loads(r.body or b"")["update"][0] for r, _ in session.exchanges]
    assert bodies == [
        {"id": parent["id"], "name": "Soft tee", "description": text},
        {"id": simple["id"], "weight": "0.250", "images": [{"src": "https://cdn.example/p.jpg"}]},
        {"id": vid, "weight": "0.2", "image": {"src": "https://cdn.example/s.jpg"}},
    ]
    for request, response in session.exchanges:
        jsonschema.validate(json.loads(request.body or b""), BATCH_REQUEST)
        jsonschema.validate(response.json(), BATCH_RESPONSE)
    # and the answers carry the shop's copy of each image, not the URL sent
    product_answer = session.exchanges[1][1].json()["update"][0]
    assert product_answer["images"][0]["src"].startswith(f"{double.site_url}/wp-content/")
    variation_answer = session.exchanges[2][1].json()["update"][0]
    assert variation_answer["image"]["src"].startswith(f"{double.site_url}/wp-content/")


def test_products_are_read_in_the_edit_context(double: WooCommerceDouble) -> None:
    # Given a product with a two-paragraph description and a variation without a weight
    text = "First paragraph.\n\nSecond paragraph."
    [parent] = double.seed(
        [
            {
                "name": "Tee",
                "description": text,
                "weight": "0.3",
                "images": [{"src": "https://shop.example/wp-content/uploads/tee.jpg"}],
                "variations": [{"sku": "TEE-S"}],
            }
        ]
    )
    session = RecordingSession()

    # When the connector reads the catalog
    [variant] = list(_connector(double, session).iter_variants())

    # Then it listed the products with context=edit, where the description is the
    # stored text (the default view context answers it through wpautop)
    query = parse_qs(urlsplit(session.exchanges[0][0].url or "").query)
    assert query["context"] == ["edit"]
    listed = session.exchanges[0][1].json()
    jsonschema.validate(listed, LIST_RESPONSE)
    assert listed[0]["description"] == text
    assert variant[VARIANT_POS["description"]] == description_digest(text)
    view = requests.get(f"{double.api_url}/products", auth=double.credentials, timeout=10)
    assert view.json()[0]["description"] == "<p>First paragraph.</p>\n<p>Second paragraph.</p>\n"
    # and a variation answers its parent's weight and image when it has none
    variations = session.exchanges[1][1].json()
    jsonschema.validate(variations, LIST_RESPONSE)
    assert variations[0]["weight"] == "0.3"
    assert variations[0]["image"]["id"] == parent["images"][0]["id"]


def test_the_double_answers_image_errors_per_item_like_woocommerce(
    double: WooCommerceDouble,
) -> None:
    # Given two products, an image URL the shop cannot fetch and a missing attachment id
    [a, b] = double.seed([{"name": "A", "regular_price": "3.00"}, {"name": "B"}])
    double.break_image_url("https://cdn.example/gone.jpg")

    # When both are posted in one batch with a price
    body = {
        "update": [
            {
                "id": a["id"],
                "regular_price": "4.00",
                "images": [{"src": "https://cdn.example/gone.jpg"}],
            },
            {"id": b["id"], "images": [{"id": 999_999}]},
        ]
    }
    response = _post(double, "/products/batch", body)

    # Then each object fails alone inside HTTP 200 with WooCommerce's codes, unchanged
    assert response.status_code == 200
    jsonschema.validate(response.json(), BATCH_RESPONSE)
    gone, missing = response.json()["update"]
    assert gone["error"]["code"] == "woocommerce_product_image_upload_error"
    assert gone["error"]["message"].startswith(
        "Error getting remote image https://cdn.example/gone.jpg."
    )
    assert missing["error"]["code"] == "woocommerce_product_invalid_image_id"
    assert missing["error"]["message"] == "#999999 is an invalid image ID."
    assert double.item(a["id"])["regular_price"] == "3.00"
    assert double.attachments() == {}


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("AT&T", "AT&amp;T"),
        (
            "&amp; &copy; &foo; &#65; &#x0041; &#8364;",
            "&amp; &copy; &amp;foo; &#065; &#x41; &#8364;",
        ),
        ("a<br/>b<BR>c", "a<br />b<BR>c"),
        ("<img src='a.png'/>", "<img src='a.png' />"),
        ('<td colspan=2 colspan=3 nowrap>x</td class="y">', '<td colspan="2" nowrap>x</td>'),
        ('<p onclick="x()" class="c">y</p>', '<p class="c">y</p>'),
        ("<script>alert(1)</script>ok", "alert(1)ok"),
        ("<iframe src='https://x.example'></iframe>", ""),
        ("5 > 3, 2 < 4", "5 &gt; 3, 2 "),
        ("<p>Heavy.</p>\n\nWash at 30 &deg;C.", "<p>Heavy.</p>\n\nWash at 30 &deg;C."),
    ],
)
def test_the_double_stores_descriptions_through_wp_filter_post_kses(
    double: WooCommerceDouble, sent: str, stored: str
) -> None:
    # Given a product
    [product] = double.seed([{"name": "P"}])

    # When a description is written
    response = _post(
        double, "/products/batch", {"update": [{"id": product["id"], "description": sent}]}
    )

    # Then it is stored as WordPress's kses spells it, answered so with context=edit
    assert response.status_code == 200
    jsonschema.validate(response.json(), BATCH_RESPONSE)
    edit = requests.get(
        f"{double.api_url}/products",
        params={"context": "edit"},
        auth=double.credentials,
        timeout=10,
    )
    assert edit.json()[0]["description"] == stored


def test_the_double_answers_a_variations_php_empty_weight_as_its_parents(
    double: WooCommerceDouble,
) -> None:
    # Given a variable product weighing 0.8 with a variation
    [parent] = double.seed([{"name": "Tee", "weight": "0.8", "variations": [{"sku": "T"}]}])
    [vid] = parent["variations"]
    path = f"/products/{parent['id']}/variations/batch"
    answered: dict[str, str] = {}

    # When the variation's own weight is set to each spelling and read back
    for weight in ("0", "", "0.0", "00", "0.5"):
        response = _post(double, path, {"update": [{"id": vid, "weight": weight}]})
        assert response.status_code == 200
        listed = requests.get(
            f"{double.api_url}/products/{parent['id']}/variations",
            params={"context": "edit"},
            auth=double.credentials,
            timeout=10,
        )
        answered[weight] = listed.json()[0]["weight"]

    # Then, as get_weight() tests it with PHP's empty(), "0" answers the parent's weight
    # like "" does, while "0.0" and "00" are the variation's own
    assert answered == {"0": "0.8", "": "0.8", "0.0": "0.0", "00": "00", "0.5": "0.5"}


def test_a_zero_weight_is_sent_as_a_weight_php_does_not_take_for_none(
    double: WooCommerceDouble,
) -> None:
    # Given a variable product weighing 0.8 with a variation
    [parent] = double.seed([{"name": "Tee", "weight": "0.8", "variations": [{"sku": "T"}]}])
    [vid] = parent["variations"]
    session = RecordingSession()

    # When the connector writes the weight 0 to the variation
    [result] = _connector(double, session).apply(
        "variations_batch", [_item(parent["id"], vid, weight=["0.8", "0"])], batch_key="k"
    )

    # Then the body carries "0.0", and the shop answers the variation's own zero
    assert result == (True, "")
    [(request, response)] = session.exchanges
    body = json.loads(request.body or b"")
    jsonschema.validate(body, BATCH_REQUEST)
    assert body == {"update": [{"id": vid, "weight": "0.0"}]}
    assert response.json()["update"][0]["weight"] == "0.0"


def test_reads_page_100_at_a_time_with_gmt_bounds(double: WooCommerceDouble) -> None:
    # Given 120 products
    double.seed([{"name": f"P{i}", "date_modified_gmt": "2024-06-02T00:00:00"} for i in range(120)])
    session = RecordingSession()

    # When a range import runs
    since = datetime(2024, 6, 1, 12, 30, tzinfo=UTC)
    assert len(list(_connector(double, session).iter_variants(modified_since=since))) == 120

    # Then every list request asks for at most 100 per page in a stable order, with the
    # range as GMT ISO-8601 bounds; answers are arrays with the paging headers
    products = [(r, resp) for r, resp in session.exchanges if _path(r).endswith("/products")]
    assert len(products) == 2
    for request, _response in session.exchanges:
        query = parse_qs(urlsplit(request.url or "").query)
        assert 1 <= int(query["per_page"][0]) <= 100
        assert query["orderby"] == ["id"] and query["order"] == ["asc"]
        assert query["modified_after"] == ["2024-06-01T12:29:59"]
        assert query["dates_are_gmt"] == ["true"]
    for _request, response in products:
        jsonschema.validate(response.json(), LIST_RESPONSE)
        assert response.headers["X-WP-Total"] == "120"
        assert response.headers["X-WP-TotalPages"] == "2"
    # and the variations changed in the range were asked for across products, ids only
    [(request, response)] = [
        (r, resp) for r, resp in session.exchanges if _path(r).endswith("/wc/v3/variations")
    ]
    assert parse_qs(urlsplit(request.url or "").query)["_fields"] == ["id,parent_id"]
    assert response.json() == []
    assert response.headers["X-WP-Total"] == "0"
    assert len(session.exchanges) == 3


def test_changed_variations_are_found_across_products_with_their_parent_ids(
    double: WooCommerceDouble,
) -> None:
    # Given two variable products whose variations are untouched but one changed variation
    # of the second, in a range
    _first, second = double.seed(
        [
            {
                "name": "A",
                "date_modified_gmt": "2024-01-01T00:00:00",
                "variations": [OLD_VARIATION] * 2,
            },
            {
                "name": "B",
                "date_modified_gmt": "2024-01-01T00:00:00",
                "variations": [OLD_VARIATION] * 2,
            },
        ]
    )
    double.set_modified(second["variations"][1], datetime(2024, 6, 2, tzinfo=UTC))
    session = RecordingSession()

    # When a range import runs
    since = datetime(2024, 6, 1, tzinfo=UTC)
    variants = list(_connector(double, session).iter_variants(modified_since=since))

    # Then GET /variations named the changed variation with its parent (and nothing else)
    # and that product was read whole: its content by id, then its variations
    assert {v[VARIANT_ID] for v in variants} == set(second["variations"])
    paths = [_path(r).removeprefix("/wp-json/wc/v3") for r, _ in session.exchanges]
    assert paths == [
        "/products",
        "/variations",
        "/products",
        f"/products/{second['id']}/variations",
    ]
    listed = session.exchanges[1][1].json()
    assert listed == [{"id": second["variations"][1], "parent_id": second["id"]}]
    lookup = parse_qs(urlsplit(session.exchanges[2][0].url or "").query)
    assert lookup["include"] == [str(second["id"])] and lookup["context"] == ["edit"]


# -- what the double answers ------------------------------------------------------------------
def test_the_double_refuses_more_than_100_objects_like_woocommerce(
    double: WooCommerceDouble,
) -> None:
    # Given 101 objects, once all in update and once spread over update and delete
    products = double.seed([{"name": f"P{i}"} for i in range(101)])
    updates = [{"id": p["id"], "regular_price": "1.00"} for p in products]
    spread = {"update": updates[:60], "delete": [p["id"] for p in products[60:]]}

    for body in ({"update": updates}, spread):
        # When the batch is posted
        response = _post(double, "/products/batch", body)

        # Then it is refused whole with WooCommerce's 413 error and nothing changes
        assert response.status_code == 413
        error = response.json()
        jsonschema.validate(error, WP_ERROR)
        assert error["code"] == "woocommerce_rest_request_entity_too_large"
        assert error["message"] == "Unable to accept more than 100 items for this request."
        assert error["data"]["status"] == 413
    assert all(p["regular_price"] == "" for p in double.products())

    # and exactly 100 is accepted
    response = _post(double, "/products/batch", {"update": updates[:100]})
    assert response.status_code == 200
    assert len(response.json()["update"]) == 100


def test_the_double_answers_per_item_errors_inside_200(double: WooCommerceDouble) -> None:
    [good, bad] = double.seed([{"name": "A", "regular_price": "3.00"}, {"name": "B"}])
    response = _post(
        double,
        "/products/batch",
        {
            "update": [
                {"id": good["id"], "sale_price": "2.00"},
                {"id": bad["id"], "regular_price": 4},
            ]
        },
    )
    assert response.status_code == 200
    body = response.json()
    jsonschema.validate(body, BATCH_RESPONSE)
    ok, failed = body["update"]
    assert ok["id"] == good["id"] and ok["sale_price"] == "2.00" and ok["price"] == "2.00"
    assert failed["id"] == bad["id"]
    assert failed["error"]["code"] == "rest_invalid_param"
    assert failed["error"]["data"]["status"] == 400


def test_the_double_answers_401_with_woocommerce_error_json(double: WooCommerceDouble) -> None:
    response = requests.get(f"{double.api_url}/products", timeout=10)
    assert response.status_code == 401
    error = response.json()
    jsonschema.validate(error, WP_ERROR)
    assert error["code"] == "woocommerce_rest_cannot_view"
    assert error["data"] == {"status": 401}

    wrong = requests.get(f"{double.api_url}/products", auth=("ck_nope", "cs"), timeout=10)
    assert wrong.status_code == 401
    assert wrong.json()["code"] == "woocommerce_rest_authentication_error"


def test_the_double_pages_like_woocommerce(double: WooCommerceDouble) -> None:
    double.seed([{"name": f"P{i}"} for i in range(25)])
    url = f"{double.api_url}/products"
    page3 = requests.get(
        url, params={"per_page": 10, "page": 3}, auth=double.credentials, timeout=10
    )
    assert len(page3.json()) == 5
    assert page3.headers["X-WP-Total"] == "25" and page3.headers["X-WP-TotalPages"] == "3"
    past = requests.get(
        url, params={"per_page": 10, "page": 4}, auth=double.credentials, timeout=10
    )
    assert past.status_code == 200 and past.json() == []
    too_big = requests.get(url, params={"per_page": 101}, auth=double.credentials, timeout=10)
    assert too_big.status_code == 400
    assert too_big.json()["code"] == "rest_invalid_param"
    jsonschema.validate(page3.json(), LIST_RESPONSE)


def test_the_double_lists_variations_across_products_like_woocommerce_10_3(
    double: WooCommerceDouble,
) -> None:
    # Given 3 variable products with 5 variations each, one changed on 2024-06-02
    products = double.seed(
        [
            {
                "name": f"P{i}",
                "date_modified_gmt": "2024-01-01T00:00:00",
                "variations": [OLD_VARIATION] * 5,
            }
            for i in range(3)
        ]
    )
    changed = products[1]["variations"][3]
    double.set_modified(changed, datetime(2024, 6, 2, tzinfo=UTC))
    url, auth = f"{double.api_url}/variations", double.credentials

    # When the store-wide list is paged, then filtered by date and trimmed by _fields
    page2 = requests.get(url, params={"per_page": 10, "page": 2}, auth=auth, timeout=10)
    since = {"modified_after": "2024-06-01T00:00:00", "dates_are_gmt": "true"}
    ranged = requests.get(url, params={**since, "_fields": "id,parent_id"}, auth=auth, timeout=10)
    too_big = requests.get(url, params={"per_page": 101}, auth=auth, timeout=10)
    posted = _post(double, "/variations", {"update": []})

    # Then it pages every product's variations with the headers, each with its parent_id
    assert page2.status_code == 200
    jsonschema.validate(page2.json(), VARIATIONS_LIST_RESPONSE)
    assert len(page2.json()) == 5
    assert page2.headers["X-WP-Total"] == "15" and page2.headers["X-WP-TotalPages"] == "2"
    parents = {v["id"]: p["id"] for p in products for v in p["variation_objects"]}
    assert all(row["parent_id"] == parents[row["id"]] for row in page2.json())
    # and filters and trims like the other collections
    assert ranged.json() == [{"id": changed, "parent_id": products[1]["id"]}]
    assert ranged.headers["X-WP-Total"] == "1"
    assert too_big.status_code == 400 and too_big.json()["code"] == "rest_invalid_param"
    # and it is read-only: no route for POST
    assert posted.status_code == 404 and posted.json()["code"] == "rest_no_route"


def test_an_older_shop_has_no_store_wide_variations_route() -> None:
    # Given a shop on WooCommerce before 10.3
    with WooCommerceDouble(store_wide_variations=False) as double:
        double.seed([{"name": "P", "variations": [{}]}])

        # When GET /variations is asked
        response = requests.get(f"{double.api_url}/variations", auth=double.credentials, timeout=10)

        # Then WordPress answers 404 rest_no_route, while the per-product list still works
        assert response.status_code == 404
        jsonschema.validate(response.json(), WP_ERROR)
        assert response.json() == NO_ROUTE
        [product] = double.products()
        per_product = requests.get(
            f"{double.api_url}/products/{product['id']}/variations",
            auth=double.credentials,
            timeout=10,
        )
        assert per_product.status_code == 200 and len(per_product.json()) == 1


# -- answers as a real shop sends them ----------------------------------------------------------
Answer = tuple[int, dict[str, str], str]


class CannedAdapter(BaseAdapter):
    """Answers by (method, path) with canned (status, headers, body text); a list of
    answers is given one per request, in order."""

    def __init__(self, answers: Mapping[tuple[str, str], Answer | list[Answer]]) -> None:
        super().__init__()
        self.answers = answers
        self.sent: list[requests.PreparedRequest] = []

    def send(
        self, request: requests.PreparedRequest, *args: Any, **kwargs: Any
    ) -> requests.Response:
        self.sent.append(request)
        answer = self.answers[(request.method or "", _path(request))]
        status, headers, text = answer.pop(0) if isinstance(answer, list) else answer
        response = requests.Response()
        response.status_code = status
        response.headers.update({"Content-Type": "application/json; charset=UTF-8", **headers})
        response._content = text.encode()
        response.url = request.url or ""
        response.request = request
        return response

    def close(self) -> None:
        pass


def _canned(
    answers: Mapping[tuple[str, str], Answer | list[Answer]],
) -> tuple[WooCommerceConnector, CannedAdapter]:
    adapter = CannedAdapter(answers)
    session = requests.Session()
    session.mount("https://", adapter)
    return WooCommerceConnector(
        "https://shop.example", "ck", "cs", session=session, allow_private=True
    ), adapter


def test_batch_answers_are_matched_by_id_not_position() -> None:
    # Given a shop that answers entries in another order, one error echoing the id as text,
    # with a PHP notice printed before the JSON
    answer = {
        "update": [
            {
                "id": 12,
                "regular_price": "9.00",
                "sale_price": "",
                "date_modified_gmt": "2024-06-01T00:00:00",
            },
            {
                "id": "11",
                "error": {
                    "code": "woocommerce_rest_product_invalid_id",
                    "message": "Invalid ID.",
                    "data": {"status": 400},
                },
            },
        ]
    }
    text = "<br />\n<b>Notice</b>: Undefined index in functions.php<br />\n" + json.dumps(answer)
    connector, adapter = _canned({("POST", "/wp-json/wc/v3/products/batch"): (200, {}, text)})

    # When two items are applied
    results = connector.apply(
        "products_batch",
        [_item(11, 11, price=[100, 900]), _item(12, 12, price=[100, 900])],
        batch_key="k",
    )

    # Then each result belongs to its own item
    assert results[0] == (False, "Invalid ID. [woocommerce_rest_product_invalid_id]")
    assert results[1] == (True, "")
    assert len(adapter.sent) == 1


def test_an_item_the_answer_leaves_out_is_not_called_written() -> None:
    answer = {"update": [{"id": 1, "regular_price": "1.00"}]}
    connector, _ = _canned(
        {("POST", "/wp-json/wc/v3/products/batch"): (200, {}, json.dumps(answer))}
    )
    results = connector.apply(
        "products_batch", [_item(1, 1, price=[0, 100]), _item(2, 2, price=[0, 100])], batch_key="k"
    )
    assert results[0] == (True, "")
    assert results[1][0] is False


def test_reads_are_parsed_as_a_real_shop_answers_them() -> None:
    # Given a real-shaped catalog: a variable product whose variation inherits the
    # parent's stock (manage_stock "parent"), an empty sale price, a GTIN on 9.2+
    product = {
        "id": 40,
        "name": "Hoodie",
        "type": "variable",
        "sku": "",
        "price": "20",
        "regular_price": "",
        "sale_price": "",
        "manage_stock": True,
        "stock_quantity": 8,
        "date_modified_gmt": "2024-05-01T10:00:00",
        "variations": [41, 42],
    }
    variations = [
        {
            "id": 41,
            "sku": "HD-S",
            "global_unique_id": "4006381333931",
            "price": "20",
            "regular_price": "20",
            "sale_price": "",
            "manage_stock": "parent",
            "stock_quantity": 8,
            "date_modified_gmt": "2024-05-02T10:00:00",
        },
        {
            "id": 42,
            "sku": "HD-M",
            "price": "18.5",
            "regular_price": "20",
            "sale_price": "18.5",
            "manage_stock": False,
            "stock_quantity": None,
            "date_modified_gmt": "2024-05-02T10:00:00",
        },
    ]
    one_page = {"X-WP-Total": "1", "X-WP-TotalPages": "1"}
    two = {"X-WP-Total": "2", "X-WP-TotalPages": "1"}
    connector, _ = _canned(
        {
            ("GET", "/wp-json/wc/v3/products"): (200, one_page, json.dumps([product])),
            ("GET", "/wp-json/wc/v3/products/40/variations"): (200, two, json.dumps(variations)),
        }
    )

    # When the catalog is read
    small, medium = list(connector.iter_variants())

    # Then the variations are read with the parent's name and their own values
    assert (small[PRODUCT_ID], small[VARIANT_ID]) == (40, 41)
    assert small[VARIANT_POS["barcode"]] == "4006381333931"
    assert small[VARIANT_POS["price"]] == 2000 and small[VARIANT_POS["sale_price"]] is None
    assert small[VARIANT_POS["stock"]] == 8
    assert small[VARIANT_POS["name"]] == "Hoodie"
    assert medium[VARIANT_POS["sale_price"]] == 1850
    assert medium[VARIANT_POS["stock"]] is None
    assert medium[VARIANT_POS["barcode"]] is None


def test_content_is_read_as_a_real_shop_answers_it() -> None:
    # Given a real-shaped answer in the edit context: a variable product with a featured
    # image; one variation showing that image (WooCommerce's stand-in for none) with an
    # empty weight (a plugin filtering the inherited one away), one with its own image;
    # and a simple product with only WooCommerce's placeholder image (id 0)
    def image(attachment_id: int, name: str) -> dict[str, Any]:
        src = f"https://shop.example/wp-content/uploads/2024/05/{name}"
        return {"id": attachment_id, "src": src, "name": name, "alt": ""}

    product = {
        "id": 70,
        "name": "Hoodie",
        "type": "variable",
        "description": "[caption]Warm[/caption]\r\n\r\nHeavy cotton",
        "weight": "0.800",
        "images": [image(700, "hoodie.jpg"), image(701, "back.jpg")],
        "variations": [71, 72],
    }
    bare = {"id": 71, "sku": "HD-S", "weight": "", "image": image(700, "hoodie.jpg")}
    own = {"id": 72, "sku": "HD-M", "weight": "0.9", "image": image(701, "back.jpg")}
    placeholder = {"id": 0, "src": "https://shop.example/wp-content/uploads/placeholder.png"}
    simple = {"id": 80, "name": "Cap", "type": "simple", "description": "", "weight": ""}
    simple |= {"images": [placeholder], "regular_price": "5", "sku": "CAP"}
    headers = {"X-WP-Total": "2", "X-WP-TotalPages": "1"}
    connector, adapter = _canned(
        {
            ("GET", "/wp-json/wc/v3/products"): (200, headers, json.dumps([product, simple])),
            ("GET", "/wp-json/wc/v3/products/70/variations"): (
                200,
                headers,
                json.dumps([bare, own]),
            ),
        }
    )

    # When the catalog is read
    variants = {v[VARIANT_ID]: v for v in connector.iter_variants()}

    # Then the stand-in image is no image, the empty weight is the parent's, the
    # description the digest of the stored text; the placeholder is no image either
    assert variants[71][VARIANT_POS["image_url"]] is None
    assert variants[71][VARIANT_POS["weight"]] == "0.8"
    assert variants[72][VARIANT_POS["image_url"]].endswith("/back.jpg")
    assert variants[72][VARIANT_POS["weight"]] == "0.9"
    assert variants[71][VARIANT_POS["description"]] == description_digest(product["description"])
    assert variants[80][VARIANT_POS["image_url"]] is None
    assert variants[80][VARIANT_POS["description"]] is None
    assert variants[80][VARIANT_POS["weight"]] is None
    assert "context=edit" in (adapter.sent[0].url or "")


def test_a_product_deleted_while_the_catalog_is_read_is_skipped() -> None:
    # Given a listed variable product whose variations answer 404 (deleted meanwhile)
    gone = {"id": 50, "name": "Gone", "type": "variable", "variations": [51]}
    simple = {"id": 60, "name": "Cap", "type": "simple", "regular_price": "5", "sale_price": ""}
    simple |= {"manage_stock": False, "stock_quantity": None, "sku": "CAP"}
    missing: dict[str, Any] = {"code": "woocommerce_rest_product_invalid_id"}
    missing |= {"message": "Invalid ID.", "data": {"status": 404}}
    headers = {"X-WP-Total": "2", "X-WP-TotalPages": "1"}
    connector, _ = _canned(
        {
            ("GET", "/wp-json/wc/v3/products"): (200, headers, json.dumps([gone, simple])),
            ("GET", "/wp-json/wc/v3/products/50/variations"): (404, {}, json.dumps(missing)),
        }
    )

    # When the catalog is read / Then the rest of the catalog is still read
    assert [v[VARIANT_ID] for v in connector.iter_variants()] == [60]


def _listed(rows: list[dict[str, Any]]) -> Answer:
    pages = "1" if rows else "0"
    return 200, {"X-WP-Total": str(len(rows)), "X-WP-TotalPages": pages}, json.dumps(rows)


HOODIE = {"id": 40, "name": "Hoodie", "type": "variable", "variations": [41, 42]}
HOODIE_VARIATIONS = [
    {"id": vid, "sku": f"HD-{vid}", "regular_price": "20", "sale_price": "", "manage_stock": False}
    for vid in (41, 42)
]


def test_a_range_import_reads_the_parents_a_10_3_shop_names() -> None:
    # Given a WooCommerce 10.3 shop where no product changed in the range but variation 41
    # of product 40 did, and an orphaned variation (parent_id 0) too
    changed = [{"id": 41, "parent_id": 40}, {"id": 99, "parent_id": 0}]
    connector, adapter = _canned(
        {
            ("GET", "/wp-json/wc/v3/products"): [_listed([]), _listed([HOODIE])],
            ("GET", "/wp-json/wc/v3/variations"): _listed(changed),
            ("GET", "/wp-json/wc/v3/products/40/variations"): _listed(HOODIE_VARIATIONS),
        }
    )

    # When the range is imported
    variants = list(connector.iter_variants(modified_since=datetime(2024, 6, 1, tzinfo=UTC)))

    # Then product 40 is read whole with four requests, asking no product one by one
    assert [(v[PRODUCT_ID], v[VARIANT_ID]) for v in variants] == [(40, 41), (40, 42)]
    paths = [_path(r).removeprefix("/wp-json/wc/v3") for r in adapter.sent]
    assert paths == ["/products", "/variations", "/products", "/products/40/variations"]
    assert connector.store_wide_variations is True


@pytest.mark.parametrize(
    "variations_answer",
    [
        pytest.param((404, {}, json.dumps(NO_ROUTE)), id="older shop: rest_no_route"),
        pytest.param(_listed([{"id": 41}]), id="parent_id trimmed away by a plugin"),
    ],
)
def test_a_range_import_asks_each_product_when_the_shop_cannot_name_parents(
    variations_answer: Answer,
) -> None:
    # Given a shop whose GET /variations cannot say which products changed, a variable
    # product 40 outside the range whose variation 41 changed in it
    connector, adapter = _canned(
        {
            ("GET", "/wp-json/wc/v3/products"): [
                _listed([]),  # changed in the range
                _listed([HOODIE]),  # the catalog's ids
                _listed([HOODIE]),  # the changed ones' content
                _listed([]),  # second import: changed in the range
                _listed([HOODIE]),  # the catalog's ids
            ],
            ("GET", "/wp-json/wc/v3/variations"): variations_answer,
            ("GET", "/wp-json/wc/v3/products/40/variations"): [
                _listed(HOODIE_VARIATIONS[:1]),  # per_page=1 probe
                _listed(HOODIE_VARIATIONS),
                _listed([]),  # second import's probe: nothing changed
            ],
        }
    )
    since = datetime(2024, 6, 1, tzinfo=UTC)

    # When the range is imported twice with the same connector
    first = list(connector.iter_variants(modified_since=since))
    second = list(connector.iter_variants(modified_since=since))

    # Then the first import probes each variable product and finds the change; the
    # store-wide list is asked only once
    assert [v[VARIANT_ID] for v in first] == [41, 42]
    assert second == []
    assert connector.store_wide_variations is False
    paths = [_path(r).removeprefix("/wp-json/wc/v3") for r in adapter.sent]
    assert paths.count("/variations") == 1
    probe = parse_qs(urlsplit(adapter.sent[3].url or "").query)
    assert (_path(adapter.sent[3]), probe["per_page"]) == (
        "/wp-json/wc/v3/products/40/variations",
        ["1"],
    )
