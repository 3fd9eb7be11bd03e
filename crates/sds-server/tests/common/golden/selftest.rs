//! Self-tests of the comparator.

use super::*;

// ---------------------------------------------------------------------------
// Self-tests of the comparator (run by every test target that includes `mod common;`)
// ---------------------------------------------------------------------------

const ST_JSON: &str = r#"{
  "authenticationResultCode": "ValidCredentials",
  "resourceSets": [{"estimatedTotal": 1, "resources": [{
    "__type": "DataflowJob:http://schemas.microsoft.com/search/local/ws/rest/v1",
    "id": "{{jobId}}",
    "links": [{"role": "self", "url": "{{root}}/dataflows/LoadDataSource/{{jobId}}"}],
    "createdDate": "{{rfc1123}}",
    "totalEntityCount": "{{int}}",
    "failedEntityCount": 0
  }]}],
  "statusCode": 201,
  "traceId": "{{traceId}}"
}"#;

const ST_ROOT: &str = "http://127.0.0.1:8080/REST/v1";
const ST_ID: &str = "0123456789abcdef0123456789abcdef";

fn st_actual_json() -> String {
    format!(
        r#"{{"statusCode":201,"authenticationResultCode":"ValidCredentials","traceId":"t1","resourceSets":[{{"estimatedTotal":1,"resources":[{{"__type":"DataflowJob:http:\/\/schemas.microsoft.com\/search\/local\/ws\/rest\/v1","id":"{ST_ID}","links":[{{"role":"self","url":"{ST_ROOT}\/dataflows\/LoadDataSource\/{ST_ID}"}}],"createdDate":"Fri, 12 Nov 2010 20:03:56 GMT","totalEntityCount":3,"failedEntityCount":0}}]}}]}}"#
    )
}

const ST_XML: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<Response xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns="http://schemas.microsoft.com/search/local/ws/rest/v1">
  <StatusCode>200</StatusCode>
  <ResourceSets><ResourceSet><Resources><DataflowJob>
    <Id>{{jobId}}</Id>
    <Link role="self">{{root}}/dataflows/LoadDataSource/{{jobId}}</Link>
    <Link role="dataSource" name="service">{{root}}/data/{{accessId}}/GoldenShops</Link>
    <CreatedDate>{{xsdatetime}}</CreatedDate>
    <CompletedDate xsi:nil="true" />
  </DataflowJob></Resources></ResourceSet></ResourceSets>
</Response>"#;

fn st_actual_xml() -> String {
    format!(
        r#"<Response xmlns="http://schemas.microsoft.com/search/local/ws/rest/v1" xmlns:i="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><StatusCode> 200 </StatusCode><ResourceSets><ResourceSet><Resources><DataflowJob><Id>{ST_ID}</Id><Link role="self">{ST_ROOT}/dataflows/LoadDataSource/{ST_ID}</Link><Link name="service" role="dataSource">{ST_ROOT}/data/ffffffffffffffffffffffffffffffff/GoldenShops</Link><CreatedDate>2026-11-28T19:20:08.1234567Z</CreatedDate><CompletedDate i:nil="true"></CompletedDate></DataflowJob></Resources></ResourceSet></ResourceSets></Response>"#
    )
}

fn st_vars() -> [(&'static str, &'static str); 1] {
    [("root", ST_ROOT)]
}

#[test]
fn golden_selftest_json_identical_passes() {
    compare_json(ST_JSON, &st_actual_json(), &st_vars()).unwrap();
    assert_json_matches("inline", ST_JSON, &st_actual_json(), &st_vars());
}

#[test]
fn golden_selftest_json_changed_value_fails() {
    let actual = st_actual_json().replace("\"statusCode\":201", "\"statusCode\":200");
    let err = compare_json(ST_JSON, &actual, &st_vars()).unwrap_err();
    assert!(err.contains("/statusCode: expected 201 but got 200"), "{err}");
    let r = std::panic::catch_unwind(|| {
        assert_json_matches("inline", ST_JSON, &actual, &st_vars());
    });
    assert!(r.is_err());
}

#[test]
fn golden_selftest_json_missing_and_extra_keys_fail() {
    let missing = st_actual_json().replace("\"traceId\":\"t1\",", "");
    let err = compare_json(ST_JSON, &missing, &st_vars()).unwrap_err();
    assert!(err.contains("/traceId: missing key"), "{err}");

    let extra = st_actual_json().replace("\"traceId\":\"t1\",", "\"traceId\":\"t1\",\"errorDetails\":[],");
    let err = compare_json(ST_JSON, &extra, &st_vars()).unwrap_err();
    assert!(err.contains("/errorDetails: unexpected extra key"), "{err}");
}

#[test]
fn golden_selftest_json_type_must_be_first() {
    let moved = st_actual_json().replace(
        &format!(
            "\"__type\":\"DataflowJob:http:\\/\\/schemas.microsoft.com\\/search\\/local\\/ws\\/rest\\/v1\",\"id\":\"{ST_ID}\""
        ),
        &format!(
            "\"id\":\"{ST_ID}\",\"__type\":\"DataflowJob:http:\\/\\/schemas.microsoft.com\\/search\\/local\\/ws\\/rest\\/v1\""
        ),
    );
    assert_ne!(moved, st_actual_json());
    let err = compare_json(ST_JSON, &moved, &st_vars()).unwrap_err();
    assert!(err.contains("\"__type\" must be the first member"), "{err}");
    let r = std::panic::catch_unwind(|| assert_json_matches("inline", ST_JSON, &moved, &st_vars()));
    assert!(r.is_err());
}

#[test]
fn golden_selftest_json_duplicate_key_fails() {
    let dup = st_actual_json().replace("\"traceId\":\"t1\"", "\"traceId\":\"t1\",\"traceId\":\"t2\"");
    let err = compare_json(ST_JSON, &dup, &st_vars()).unwrap_err();
    assert!(err.contains("duplicate key"), "{err}");
}

#[test]
fn golden_selftest_json_placeholders() {
    // jobId must be the same in id and link.
    let other = "fedcba9876543210fedcba9876543210";
    let bad = st_actual_json().replacen(&format!("LoadDataSource\\/{ST_ID}"), &format!("LoadDataSource\\/{other}"), 1);
    let err = compare_json(ST_JSON, &bad, &st_vars()).unwrap_err();
    assert!(err.contains("jobId is bound"), "{err}");
    // Uppercase hex is not hex32.
    let upper = st_actual_json().replace(ST_ID, &ST_ID.to_uppercase());
    assert!(compare_json(ST_JSON, &upper, &st_vars()).is_err());
    // Wrong weekday in an RFC 1123 date.
    let wd = st_actual_json().replace("Fri, 12 Nov 2010", "Sat, 12 Nov 2010");
    assert!(compare_json(ST_JSON, &wd, &st_vars()).is_err());
    // {{int}} accepts a number but not a string or a float.
    let s = st_actual_json().replace("\"totalEntityCount\":3", "\"totalEntityCount\":\"3\"");
    assert!(compare_json(ST_JSON, &s, &st_vars()).is_err());
    let f = st_actual_json().replace("\"totalEntityCount\":3", "\"totalEntityCount\":3.5");
    assert!(compare_json(ST_JSON, &f, &st_vars()).is_err());
    // Empty traceId is rejected.
    let t = st_actual_json().replace("\"traceId\":\"t1\"", "\"traceId\":\"\"");
    assert!(compare_json(ST_JSON, &t, &st_vars()).is_err());
    // Different root var fails.
    assert!(compare_json(ST_JSON, &st_actual_json(), &[("root", "https://x/REST/v1")]).is_err());
    // Unknown placeholder is a golden error.
    assert!(compare_json(r#"{"a":"{{nope}}"}"#, r#"{"a":"x"}"#, &[]).is_err());
    // Vars shadow kinds; labelled captures bind across values; {{any}} matches any value.
    compare_json(
        r#"{"a":"{{nonempty:m}}","b":["{{nonempty:m}}"],"c":"{{any}}","d":"x{{any}}y"}"#,
        r#"{"a":"boom","b":["boom"],"c":{"z":1},"d":"xy"}"#,
        &[],
    )
    .unwrap();
    assert!(
        compare_json(r#"{"a":"{{nonempty:m}}","b":["{{nonempty:m}}"]}"#, r#"{"a":"boom","b":["bang"]}"#, &[],).is_err()
    );
    // Embedded pattern with backtracking.
    compare_json(r#"{"a":"{{any}}/x/{{int}}"}"#, r#"{"a":"p/x/q/x/-12"}"#, &[]).unwrap();
}

#[test]
fn golden_selftest_xml_identical_passes() {
    compare_xml(ST_XML, &st_actual_xml(), &st_vars()).unwrap();
    assert_xml_matches("inline", ST_XML, &st_actual_xml(), &st_vars());
}

#[test]
fn golden_selftest_xml_differences_fail() {
    // Changed value.
    let changed = st_actual_xml().replace("<StatusCode> 200 </StatusCode>", "<StatusCode>201</StatusCode>");
    let err = compare_xml(ST_XML, &changed, &st_vars()).unwrap_err();
    assert!(err.contains("/Response/StatusCode"), "{err}");
    assert!(std::panic::catch_unwind(|| assert_xml_matches("inline", ST_XML, &changed, &st_vars())).is_err());
    // Missing attribute / extra attribute.
    let no_nil = st_actual_xml().replace(" i:nil=\"true\"", "");
    let err = compare_xml(ST_XML, &no_nil, &st_vars()).unwrap_err();
    assert!(err.contains("CompletedDate/@{http://www.w3.org/2001/XMLSchema-instance}nil: missing"), "{err}");
    let extra = st_actual_xml().replace("<Link role=\"self\">", "<Link role=\"self\" name=\"x\">");
    let err = compare_xml(ST_XML, &extra, &st_vars()).unwrap_err();
    assert!(err.contains("/Link[1]/@name: unexpected extra attribute"), "{err}");
    // Child order matters.
    let swapped = st_actual_xml()
        .replace(&format!("<Id>{ST_ID}</Id>"), "")
        .replace("<CreatedDate>", &format!("<Id>{ST_ID}</Id><CreatedDate>"));
    let err = compare_xml(ST_XML, &swapped, &st_vars()).unwrap_err();
    assert!(err.contains("child elements differ"), "{err}");
    // Wrong namespace.
    let wrong_ns = st_actual_xml()
        .replace("xmlns=\"http://schemas.microsoft.com/search/local/ws/rest/v1\"", "xmlns=\"urn:other\"");
    assert!(compare_xml(ST_XML, &wrong_ns, &st_vars()).is_err());
    // Missing namespace declaration required by the golden.
    let no_xsi = st_actual_xml().replace(" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"", "");
    let err = compare_xml(ST_XML, &no_xsi, &st_vars()).unwrap_err();
    assert!(err.contains("missing namespace declaration xmlns:xsi"), "{err}");
    // Bad xs:dateTime (6 fraction digits, offset instead of Z).
    let dt = st_actual_xml().replace("2026-11-28T19:20:08.1234567Z", "2026-11-28T19:20:08.123456-08:00");
    assert!(compare_xml(ST_XML, &dt, &st_vars()).is_err());
    // Non-blank text where the golden has none.
    let txt = st_actual_xml().replace("i:nil=\"true\"></CompletedDate>", "i:nil=\"true\">x</CompletedDate>");
    assert!(compare_xml(ST_XML, &txt, &st_vars()).is_err());
}

#[test]
fn golden_selftest_xml_entities_and_vars() {
    compare_xml(
        r#"<a xmlns="urn:x"><b k="{{v}}">A &amp; B {{any}}</b></a>"#,
        r#"<p:a xmlns:p="urn:x" xmlns="urn:x"><p:b k="1&lt;2">A &amp; B &#169; tail</p:b></p:a>"#,
        &[("v", "1<2")],
    )
    .unwrap();
}

#[test]
fn golden_selftest_isodate() {
    let golden = r#"<w xmlns:b="urn:b" b:updated="{{isodate}}"><t>{{isodate:u}}|{{isodate:u}}</t></w>"#;
    compare_xml(
        golden,
        r#"<w xmlns:b="urn:b" b:updated="2026-11-28T19:20:08Z"><t>2024-02-29T00:00:00Z|2024-02-29T00:00:00Z</t></w>"#,
        &[],
    )
    .unwrap();
    for bad in [
        "2026-11-28T19:20:08.1234567Z",
        "2026-11-28T19:20:08",
        "2026-11-28T19:20:08+00:00",
        "2026-11-28 19:20:08Z",
        "2026-02-30T19:20:08Z",
        "2026-11-28T24:20:08Z",
    ] {
        let actual =
            format!(r#"<w xmlns:b="urn:b" b:updated="{bad}"><t>2024-02-29T00:00:00Z|2024-02-29T00:00:00Z</t></w>"#);
        assert!(compare_xml(golden, &actual, &[]).is_err(), "{bad} accepted as an isodate");
    }
    // Labelled: both occurrences must be equal.
    let differ =
        r#"<w xmlns:b="urn:b" b:updated="2026-11-28T19:20:08Z"><t>2024-02-29T00:00:00Z|2024-02-29T00:00:01Z</t></w>"#;
    assert!(compare_xml(golden, differ, &[]).is_err());
    compare_json(r#"{"u":"{{isodate}}"}"#, r#"{"u":"2010-11-12T20:03:56Z"}"#, &[]).unwrap();
}

#[test]
fn golden_selftest_golden_files_parse() {
    // Every golden file must be well-formed and use only known placeholders.
    let mut files = Vec::new();
    fn walk(dir: &std::path::Path, out: &mut Vec<PathBuf>) {
        if let Ok(rd) = std::fs::read_dir(dir) {
            for e in rd.flatten() {
                let p = e.path();
                if p.is_dir() {
                    walk(&p, out);
                } else {
                    out.push(p);
                }
            }
        }
    }
    walk(&golden_dir(), &mut files);
    let known = ["root", "dataSourceName", "description"];
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        let mut rest = text.as_str();
        while let Some(i) = rest.find("{{") {
            let after = &rest[i + 2..];
            let j = after.find("}}").unwrap_or_else(|| panic!("{}: unterminated placeholder", f.display()));
            let name = after[..j].trim();
            let kind = name.split(':').next().unwrap().trim();
            assert!(
                kind_of(kind).is_some() || known.contains(&name),
                "{}: unknown placeholder {{{{{name}}}}}",
                f.display()
            );
            rest = &after[j + 2..];
        }
        match f.extension().and_then(|e| e.to_str()) {
            Some("json") => {
                serde_json::from_str::<Value>(&text).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
            }
            Some("xml") => {
                parse_xml(&text).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
            }
            _ => {}
        }
    }
}
