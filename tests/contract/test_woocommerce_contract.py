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
* lists are JSON arrays paged by ``X-WP-Total`` / ``X-WP-TotalPages``, 100 per page at most.

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

from feedsync.adapters.woocommerce import WooCommerceConnector
from feedsync.domain.fields import PRODUCT_ID, VARIANT_ID, VARIANT_POS
from feedsync.local.woo_double import WooCommerceDouble

PRICE = {"type": "string", "pattern": r"^(\d+\.\d{2})?$"}
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
        double.site_url, key, secret, session=session, allow_http=True, sleep=lambda s: None
    )


def _item(pid: int, vid: int, **changes: list[Any]) -> dict[str, Any]:
    return {"row": 1, "key": "k", "product_id": pid, "variant_id": vid, "changes": changes}


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


def test_reads_page_100_at_a_time_with_gmt_bounds(double: WooCommerceDouble) -> None:
    # Given 120 products
    double.seed([{"name": f"P{i}", "date_modified_gmt": "2024-06-02T00:00:00"} for i in range(120)])
    session = RecordingSession()

    # When a range import runs
    since = datetime(2024, 6, 1, 12, 30, tzinfo=UTC)
    assert len(list(_connector(double, session).iter_variants(modified_since=since))) == 120

    # Then every list request asks for at most 100 per page in a stable order, with the
    # range as GMT ISO-8601 bounds; answers are arrays with the paging headers
    first_pass = [(r, resp) for r, resp in session.exchanges if "modified_after" in (r.url or "")]
    assert len(first_pass) == 2
    for request, response in session.exchanges:
        query = parse_qs(urlsplit(request.url or "").query)
        assert 1 <= int(query["per_page"][0]) <= 100
        assert query["orderby"] == ["id"] and query["order"] == ["asc"]
        jsonschema.validate(
            response.json(), LIST_RESPONSE if "_fields" not in query else {"type": "array"}
        )
        assert response.headers["X-WP-Total"] == "120"
        assert response.headers["X-WP-TotalPages"] == "2"
    query = parse_qs(urlsplit(first_pass[0][0].url or "").query)
    assert query["modified_after"] == ["2024-06-01T12:29:59"]
    assert query["dates_are_gmt"] == ["true"]


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


# -- answers as a real shop sends them ----------------------------------------------------------
class CannedAdapter(BaseAdapter):
    """Answers by (method, path) with canned (status, headers, body text)."""

    def __init__(self, answers: Mapping[tuple[str, str], tuple[int, dict[str, str], str]]) -> None:
        super().__init__()
        self.answers = answers
        self.sent: list[requests.PreparedRequest] = []

    def send(
        self, request: requests.PreparedRequest, *args: Any, **kwargs: Any
    ) -> requests.Response:
        self.sent.append(request)
        status, headers, text = self.answers[(request.method or "", _path(request))]
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
    answers: Mapping[tuple[str, str], tuple[int, dict[str, str], str]],
) -> tuple[WooCommerceConnector, CannedAdapter]:
    adapter = CannedAdapter(answers)
    session = requests.Session()
    session.mount("https://", adapter)
    return WooCommerceConnector("https://shop.example", "ck", "cs", session=session), adapter


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
