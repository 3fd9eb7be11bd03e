//! `SDS/query-api/query-by-id.md`: one entity by `Type('id')` (Atom entry
//! and JSON object, every property in schema order, an empty Edm.String
//! as `""` / `<d:SecondaryCity />`, a null Int64 as `m:null`) and two
//! entities by `$filter=entityId in('…','…')` with `$select`.

use serde_json::{json, Value};

use super::support::*;

/// Every property of `shop` as the page's Atom entry writes them.
fn atom_properties(shop: &Shop) -> Vec<String> {
    let boolean = |value: bool| if value { "1" } else { "0" };
    let seating = match shop.seating {
        Some(seats) => atom_property("SeatingCapacity", Some("Edm.Int64"), &seats.to_string()),
        None => "<d:SeatingCapacity m:type=\"Edm.Int64\" m:null=\"true\"/>".to_owned(),
    };
    vec![
        atom_property("EntityID", None, shop.id),
        atom_property("Latitude", Some("Edm.Double"), &shop.lat.to_string()),
        atom_property("Longitude", Some("Edm.Double"), &shop.lon.to_string()),
        atom_property("AddressLine", None, shop.address),
        atom_property("PrimaryCity", None, shop.city),
        atom_property("Subdivision", None, shop.subdivision),
        atom_property("PostalCode", None, shop.postal),
        atom_property("Phone", None, shop.phone),
        atom_property("SecondaryCity", None, shop.secondary_city),
        atom_property("CountryRegion", None, shop.country),
        atom_property("Name", None, &shop.name()),
        atom_property("DisplayName", None, &shop.display_name()),
        atom_property("Manager", None, shop.manager),
        atom_property("StoreOpen", None, "Y"),
        atom_property("StoreType", None, shop.store_type),
        seating,
        atom_property("Open", Some("Edm.Int64"), &shop.open.to_string()),
        atom_property("Close", Some("Edm.Int64"), &shop.close.to_string()),
        atom_property("IsWiFiHotSpot", Some("Edm.Boolean"), boolean(shop.wifi)),
        atom_property("IsWheelchairAccessible", Some("Edm.Boolean"), boolean(shop.wheelchair)),
        atom_property("AcceptsOnlineOrders", Some("Edm.Boolean"), boolean(shop.online)),
        atom_property("AcceptsCoffeeCards", Some("Edm.Boolean"), boolean(shop.cards)),
        atom_property("CreatedDate", Some("Edm.DateTime"), shop.created),
        atom_property("LastUpdatedDate", Some("Edm.DateTime"), shop.updated),
    ]
}

/// The JSON members of `shop`, in schema order.
pub fn json_members(shop: &Shop) -> Vec<(&'static str, Value)> {
    vec![
        ("EntityID", json!(shop.id)),
        ("Latitude", json!(shop.lat)),
        ("Longitude", json!(shop.lon)),
        ("AddressLine", json!(shop.address)),
        ("PrimaryCity", json!(shop.city)),
        ("Subdivision", json!(shop.subdivision)),
        ("PostalCode", json!(shop.postal)),
        ("Phone", json!(shop.phone)),
        ("SecondaryCity", json!(shop.secondary_city)),
        ("CountryRegion", json!(shop.country)),
        ("Name", json!(shop.name())),
        ("DisplayName", json!(shop.display_name())),
        ("Manager", json!(shop.manager)),
        ("StoreOpen", json!("Y")),
        ("StoreType", json!(shop.store_type)),
        ("SeatingCapacity", json!(shop.seating)),
        ("Open", json!(shop.open)),
        ("Close", json!(shop.close)),
        ("IsWiFiHotSpot", json!(shop.wifi)),
        ("IsWheelchairAccessible", json!(shop.wheelchair)),
        ("AcceptsOnlineOrders", json!(shop.online)),
        ("AcceptsCoffeeCards", json!(shop.cards)),
        ("CreatedDate", json!(odata_date(shop.created))),
        ("LastUpdatedDate", json!(odata_date(shop.updated))),
    ]
}

/// The first example: `FourthCoffeeShops('-31067')`, the page's entity
/// shape with an empty SecondaryCity (finding 4) and a null
/// SeatingCapacity.
#[test]
fn docs_query_by_id_single_entity_atom() {
    let sample = Sample::start();
    let shop = sample_shop("-31067");
    let reply = get(&sample.server, &format!("{}('-31067')?key={}", sample.set_path(), sample.server.query_key));
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(reply.content_type.starts_with("application/atom+xml"), "{}", reply.content_type);
    let golden = format!(
        "<entry xmlns=\"http://www.w3.org/2005/Atom\" xmlns:d=\"http://schemas.microsoft.com/ado/2007/08/dataservices\" \
xmlns:m=\"http://schemas.microsoft.com/ado/2007/08/dataservices/metadata\"><id>{}</id><title type=\"text\"/>\
<updated>{{{{isodate}}}}</updated><content type=\"application/xml\"><m:properties>{}</m:properties></content>\
<rights type=\"text\">{{{{nonempty}}}}</rights></entry>",
        sample.entry_uri("-31067"),
        atom_properties(&shop).concat()
    );
    assert_xml_matches("query-by-id single Atom", &golden, &reply.body, &[]);
    assert!(
        reply.body.contains("<d:SecondaryCity/>")
            || reply.body.contains("<d:SecondaryCity />")
            || reply.body.contains("<d:SecondaryCity></d:SecondaryCity>"),
        "an empty string is an empty element without m:null (finding 4): {}",
        reply.body
    );
}

#[test]
fn docs_query_by_id_single_entity_json() {
    let sample = Sample::start();
    let shop = sample_shop("-31067");
    let reply =
        get(&sample.server, &format!("{}('-31067')?$format=json&key={}", sample.set_path(), sample.server.query_key));
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(reply.content_type.starts_with("application/json"), "{}", reply.content_type);
    let mut members =
        vec![("__copyright", json!("{{nonempty}}")), ("__metadata", json!({"uri": sample.entry_uri("-31067")}))];
    members.extend(json_members(&shop));
    let golden = json!({ "d": Value::Object(members.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect()) });
    assert_json_matches("query-by-id single JSON", &golden.to_string(), &reply.body, &[]);
    let order = key_order(&reply.body, "/d");
    let expected: Vec<&str> = members.iter().map(|(name, _)| *name).collect();
    assert_eq!(order, expected, "the page lists the properties in schema order");
    assert!(
        reply.body.contains(r#""CreatedDate":"\/Date("#),
        "slashes escaped as the page writes them: {}",
        reply.body
    );
    assert_eq!(reply.json()["d"]["SecondaryCity"], "", "an empty Edm.String is \"\" (finding 4)");
}

/// The second example: `$filter=entityId in('-31067','-9102')` (no space
/// before the parenthesis, as the page writes it) with `$select`.
#[test]
fn docs_query_by_id_two_entities_atom_and_json() {
    let sample = Sample::start();
    let select = "$select=Latitude,Longitude,AddressLine,PrimaryCity,PostalCode";
    let key = &sample.server.query_key;
    let ids = ["-31067", "-9102"];
    let shops: Vec<Shop> = ids.iter().map(|id| sample_shop(id)).collect();

    let atom = sample.query(&format!("$filter=entityId in('-31067','-9102')&{select}&key={key}"));
    assert_eq!(atom.status, 200, "{}", atom.body);
    let entries: Vec<String> = shops
        .iter()
        .map(|shop| {
            atom_entry(
                &sample.entry_uri(shop.id),
                &[
                    atom_property("Latitude", Some("Edm.Double"), &shop.lat.to_string()),
                    atom_property("Longitude", Some("Edm.Double"), &shop.lon.to_string()),
                    atom_property("AddressLine", None, shop.address),
                    atom_property("PrimaryCity", None, shop.city),
                    atom_property("PostalCode", None, shop.postal),
                ],
            )
        })
        .collect();
    assert_xml_matches("query-by-id list Atom", &atom_feed(&entries), &atom.body, &[]);

    let json = sample.query(&format!("$filter=entityId in('-31067','-9102')&{select}&$format=json&key={key}"));
    assert_eq!(json.status, 200, "{}", json.body);
    let results: Vec<Value> = shops
        .iter()
        .map(|shop| {
            json_entry(
                &sample.entry_uri(shop.id),
                &[
                    ("Latitude", json!(shop.lat)),
                    ("Longitude", json!(shop.lon)),
                    ("AddressLine", json!(shop.address)),
                    ("PrimaryCity", json!(shop.city)),
                    ("PostalCode", json!(shop.postal)),
                ],
            )
        })
        .collect();
    assert_json_matches("query-by-id list JSON", &json_feed(results), &json.body, &[]);
    assert_eq!(
        key_order(&json.body, "/d/results/1"),
        ["__metadata", "Latitude", "Longitude", "AddressLine", "PrimaryCity", "PostalCode"],
        "$select order"
    );
}

/// The page's template also allows a space before the list and lists of up
/// to 50 IDs; an unknown ID in `Type('id')` is not found.
#[test]
fn docs_query_by_id_template_forms() {
    let sample = Sample::start();
    let key = &sample.server.query_key;
    let spaced = sample.query(&format!("$filter=entityId in ('-9102', '-9101')&$format=json&key={key}"));
    assert_eq!(result_ids(&spaced.json(), "EntityID"), ["-9101", "-9102"], "entity ID order");
    let fifty: Vec<String> = (0..50).map(|n| format!("'{n}'")).collect();
    let many = sample.query(&format!("$filter=entityId in ({})&$format=json&key={key}", fifty.join(",")));
    assert_eq!(many.status, 200, "{}", many.body);
    let fifty_one: Vec<String> = (0..51).map(|n| format!("'{n}'")).collect();
    let too_many = sample.query(&format!("$filter=entityId in ({})&$format=json&key={key}", fifty_one.join(",")));
    assert_eq!(too_many.status, 400, "up to 50 IDs: {}", too_many.body);
    let missing = get(&sample.server, &format!("{}('nope')?key={key}", sample.set_path()));
    assert_eq!(missing.status, 404, "{}", missing.body);
}
