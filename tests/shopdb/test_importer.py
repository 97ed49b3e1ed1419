"""User catalogue import: one clear error per bad row, valid rows loaded, index updated incrementally."""

from __future__ import annotations

import json
from pathlib import Path

from assistant.shop_data import import_catalogue
from retrieval.shop_search import ShopSearch
from shopdb.importer import import_file, validate_file

EXAMPLES = Path(__file__).resolve().parents[2] / "shopdb" / "examples"

BAD_CSV = """sku,title,category,price,brand,stock,rating,colour,attributes
OK-1,Good Product,Home/Decor,10.00,Acme,3,4.5,red,
x,Too short sku,Home/Decor,10.00,Acme,1,,,
OK-2,Negative price,Home/Decor,-5,Acme,1,,,
OK-3,,Home/Decor,5,Acme,1,,,
OK-1,Duplicate,Home/Decor,5,Acme,1,,,
OK-4,Bad stock,Home/Decor,5,Acme,many,7,,
OK-5,Bad attrs,Home/Decor,5,Acme,1,,,{not json
"""


def test_each_bad_row_gets_row_field_reason(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(BAD_CSV)
    records, errors, n = validate_file(path)
    assert n == 7 and [r.sku for r in records] == ["OK-1"]
    got = {(e.row, e.field) for e in errors}
    assert got == {(3, "sku"), (4, "price"), (5, "title"), (6, "sku"), (7, "stock"), (7, "rating"), (8, "attributes")}
    dup = next(e for e in errors if e.row == 6)
    assert "duplicate of row 2" in str(dup) and str(dup).startswith("row 6, field sku:")


def test_json_errors_and_unknown_fields(tmp_path):
    path = tmp_path / "p.json"
    path.write_text(
        json.dumps(
            {
                "products": [
                    {"sku": "J-1", "title": "Lamp", "category": "Home > Lighting", "price": "12,50", "brand": "Lumo"},
                    {"sku": "J-2", "title": "Lamp", "category": "Home", "price": 3, "brand": "Lumo", "colur": "red"},
                    "not an object",
                ]
            }
        )
    )
    records, errors, _ = validate_file(path)
    assert records[0].category == "Home/Lighting" and str(records[0].price) == "12.50"
    assert {(e.row, e.field, e.reason) for e in errors} == {
        (2, "colur", "unknown field"),
        (3, "-", "must be a JSON object"),
    }
    bad = tmp_path / "broken.json"
    bad.write_text("{oops")
    report = import_file(None, bad)
    assert report.errors and "not valid JSON" in report.errors[0].reason and not report.loaded


def test_import_loads_valid_rows_and_updates_index(shop_settings, tmp_path):
    report = import_catalogue(shop_settings, EXAMPLES / "products.csv")
    assert report.loaded and report.inserted == 3 and not report.errors
    assert "synced" in report.index
    kb = ShopSearch.from_settings(shop_settings)
    hit = kb.search_products("TRL-002", k=3)[0]
    assert hit.sku == "TRL-002" and hit.price == 99.5 and hit.attributes["size"] == ["38", "39", "40", "41"]
    trail = kb.search_products("shoes for muddy mountain trail runs", {"category": "Shoes/Trail running shoes"}, k=2)
    assert trail[0].sku == "TRL-001"
    # re-import with a changed price updates in place (upsert by SKU)
    changed = tmp_path / "p.csv"
    changed.write_text((EXAMPLES / "products.csv").read_text().replace("129.95", "119.00"))
    again = import_catalogue(shop_settings, changed)
    assert again.updated == 3 and again.inserted == 0
    kb2 = ShopSearch.from_settings(shop_settings)
    assert kb2.get_product("TRL-001").price == 119.0
    kb.engine.dispose()
    kb2.engine.dispose()
