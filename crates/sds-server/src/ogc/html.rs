//! The HTML forms (OGC 17-069r4 §7.3.2, class html): plain pages a person
//! can read, with links to every JSON form, and for features a table and
//! an inline SVG map of the page's items (nothing is fetched from outside).

use std::fmt::Write;

use axum::response::Response;
use geo::Geometry;
use serde_json::Value;

use super::items::Page;
use super::{respond, HTML};

/// The policy of every HTML page: no script runs, nothing is fetched (the
/// map is inline SVG), only the page's own `<style>`. Values are escaped
/// too; this keeps a data source's text inert even if one escape were
/// missed, on the origin where the console keeps its key.
const CONTENT_SECURITY_POLICY: &str =
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// `body` as an HTML response with [`CONTENT_SECURITY_POLICY`].
pub(super) fn respond_html(body: String) -> Response {
    let mut response = respond(body, "text/html; charset=utf-8");
    let headers = response.headers_mut();
    headers.insert(
        axum::http::header::CONTENT_SECURITY_POLICY,
        axum::http::HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(axum::http::header::X_CONTENT_TYPE_OPTIONS, axum::http::HeaderValue::from_static("nosniff"));
    response
}

/// Text made safe inside HTML elements and quoted attributes (`<`, `>`,
/// `&`, `'`, `"` as character references).
pub(super) fn escape(text: &str) -> std::borrow::Cow<'_, str> {
    quick_xml::escape::escape(text)
}

fn page(title: &str, body: &str) -> Response {
    let html = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title>\
         <style>body{{font-family:sans-serif;margin:2em;max-width:70em}}table{{border-collapse:collapse}}\
         td,th{{border:1px solid #ccc;padding:2px 6px;text-align:left}}svg{{border:1px solid #999;background:#eef4fa}}</style>\
         </head><body><h1>{}</h1>\n{body}\n</body></html>\n",
        escape(title),
        escape(title)
    );
    respond_html(html)
}

/// A list of a document's links.
fn links(value: &Value) -> String {
    let mut out = String::from("<h2>Links</h2><ul>");
    for link in value["links"].as_array().into_iter().flatten() {
        let href = link["href"].as_str().unwrap_or_default();
        let _ = write!(
            out,
            "<li><a href=\"{}\">{}</a> ({}, {})</li>",
            escape(href),
            escape(link["title"].as_str().unwrap_or(href)),
            escape(link["rel"].as_str().unwrap_or_default()),
            escape(link["type"].as_str().unwrap_or_default())
        );
    }
    out.push_str("</ul>");
    out
}

pub fn landing(body: &Value) -> Response {
    let text = format!("<p>{}</p>{}", escape(body["description"].as_str().unwrap_or_default()), links(body));
    page(body["title"].as_str().unwrap_or("OGC API – Features"), &text)
}

pub fn conformance(classes: &[&str]) -> Response {
    let mut text = String::from("<ul>");
    for class in classes {
        let _ = write!(text, "<li>{}</li>", escape(class));
    }
    text.push_str("</ul>");
    page("Conformance", &text)
}

pub fn collections(body: &Value) -> Response {
    let mut text = String::from("<table><tr><th>Collection</th><th>Description</th><th>Items</th></tr>");
    for collection in body["collections"].as_array().into_iter().flatten() {
        let of_rel = |rel: &str, media: &str| {
            collection["links"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|link| link["rel"] == rel && link["type"] == media)
                .and_then(|link| link["href"].as_str())
                .unwrap_or_default()
                .to_owned()
        };
        let own = {
            let json = of_rel("self", "application/json");
            if json.is_empty() {
                of_rel("alternate", "application/json")
            } else {
                json
            }
        };
        let _ = write!(
            text,
            "<tr><td><a href=\"{}\">{}</a></td><td>{}</td><td><a href=\"{}\">items</a></td></tr>",
            escape(&own.replace("f=json", "f=html")),
            escape(collection["title"].as_str().unwrap_or_default()),
            escape(collection["description"].as_str().unwrap_or_default()),
            escape(&of_rel("items", HTML)),
        );
    }
    text.push_str("</table>");
    text.push_str(&links(body));
    page("Collections", &text)
}

pub fn collection(body: &Value) -> Response {
    let mut text = format!(
        "<p>{}</p><p>id: <code>{}</code></p>",
        escape(body["description"].as_str().unwrap_or_default()),
        escape(body["id"].as_str().unwrap_or_default())
    );
    if let Some(bbox) = body["extent"]["spatial"]["bbox"][0].as_array() {
        let numbers: Vec<String> = bbox.iter().map(|number| number.to_string()).collect();
        let _ = write!(text, "<p>extent (lon/lat): {}</p>", escape(&numbers.join(", ")));
    }
    if let Some(interval) = body["extent"]["temporal"]["interval"][0].as_array() {
        let _ =
            write!(text, "<p>time: {} to {}</p>", escape(&interval[0].to_string()), escape(&interval[1].to_string()));
    }
    text.push_str(&links(body));
    page(body["title"].as_str().unwrap_or("Collection"), &text)
}

pub fn queryables(id: &str, body: &Value) -> Response {
    let mut text = String::from("<table><tr><th>Name</th><th>Type</th></tr>");
    for (name, schema) in body["properties"].as_object().into_iter().flatten() {
        let kind = schema["type"].as_str().or(schema["format"].as_str()).unwrap_or_default();
        let _ = write!(text, "<tr><td>{}</td><td>{}</td></tr>", escape(name), escape(kind));
    }
    text.push_str("</table>");
    page(&format!("Queryables of {id}"), &text)
}

pub fn items(page_data: &Page<'_>) -> Response {
    let table = &page_data.collection.table;
    let schema = table.schema();
    let geography = schema.geography_index();
    let mut text = format!(
        "<p>{} of {} features from {}.</p>",
        page_data.rows.len(),
        page_data.matched,
        page_data.offset + usize::from(!page_data.rows.is_empty())
    );
    text.push_str(&map(page_data));
    text.push_str("<p>");
    for link in &page_data.links {
        let rel = link["rel"].as_str().unwrap_or_default();
        if matches!(rel, "next" | "prev" | "collection" | "alternate") {
            let _ =
                write!(text, "<a href=\"{}\">{}</a> ", escape(link["href"].as_str().unwrap_or_default()), escape(rel));
        }
    }
    text.push_str("</p><table><tr><th>id</th>");
    for (index, property) in schema.properties.iter().enumerate() {
        if Some(index) != geography {
            let _ = write!(text, "<th>{}</th>", escape(&property.name));
        }
    }
    text.push_str("</tr>");
    for &row in &page_data.rows {
        let _ = write!(text, "<tr><td>{}</td>", escape(table.id(row)));
        for index in 0..schema.properties.len() {
            if Some(index) == geography {
                continue;
            }
            let cell = match table.cell(index, row) {
                sds_query::Cell::Null => String::new(),
                sds_query::Cell::String(value) | sds_query::Cell::Geography(value) => value.to_owned(),
                sds_query::Cell::Int64(value) => value.to_string(),
                sds_query::Cell::Double(value) => value.to_string(),
                sds_query::Cell::Boolean(value) => value.to_string(),
                sds_query::Cell::DateTime(value) => value.to_iso8601(),
            };
            let _ = write!(text, "<td>{}</td>", escape(&cell));
        }
        text.push_str("</tr>");
    }
    text.push_str("</table>");
    page(&page_data.collection.source.name, &text)
}

/// An SVG map (plate carrée) of the page's items, fitted to their box.
fn map(page_data: &Page<'_>) -> String {
    let table = &page_data.collection.table;
    let (mut min_x, mut min_y, mut max_x, mut max_y) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    let mut grow = |x: f64, y: f64| {
        min_x = min_x.min(x);
        max_x = max_x.max(x);
        min_y = min_y.min(y);
        max_y = max_y.max(y);
    };
    for &row in &page_data.rows {
        match table.geometry(row).and_then(geo::BoundingRect::bounding_rect) {
            Some(rect) => {
                grow(rect.min().x, rect.min().y);
                grow(rect.max().x, rect.max().y);
            }
            None => grow(table.longitude(row), table.latitude(row)),
        }
    }
    if page_data.rows.is_empty() {
        return String::new();
    }
    let span = (max_x - min_x).max(max_y - min_y).max(0.01);
    let (width, height) = (640.0, 360.0);
    let scale = (width / (max_x - min_x).max(span * 0.1)).min(height / (max_y - min_y).max(span * 0.1)) * 0.9;
    let (center_x, center_y) = ((min_x + max_x) / 2.0, (min_y + max_y) / 2.0);
    let project = |x: f64, y: f64| (width / 2.0 + (x - center_x) * scale, height / 2.0 - (y - center_y) * scale);
    let mut svg = format!("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\">");
    let path = |svg: &mut String, coords: &mut dyn Iterator<Item = geo::Coord<f64>>, close: bool| {
        svg.push_str("<path fill=\"");
        svg.push_str(if close { "#6a9" } else { "none" });
        svg.push_str("\" fill-opacity=\"0.5\" stroke=\"#264\" stroke-width=\"1\" d=\"");
        for (index, coord) in coords.enumerate() {
            let (x, y) = project(coord.x, coord.y);
            let _ = write!(svg, "{}{x:.1},{y:.1} ", if index == 0 { 'M' } else { 'L' });
        }
        if close {
            svg.push('Z');
        }
        svg.push_str("\"/>");
    };
    for &row in &page_data.rows {
        let mut geometries: Vec<&Geometry<f64>> = table.geometry(row).into_iter().collect();
        while let Some(geometry) = geometries.pop() {
            match geometry {
                Geometry::Polygon(polygon) => path(&mut svg, &mut polygon.exterior().coords().copied(), true),
                Geometry::MultiPolygon(polygons) => {
                    for polygon in &polygons.0 {
                        path(&mut svg, &mut polygon.exterior().coords().copied(), true);
                    }
                }
                Geometry::LineString(line) => path(&mut svg, &mut line.coords().copied(), false),
                Geometry::MultiLineString(lines) => {
                    for line in &lines.0 {
                        path(&mut svg, &mut line.coords().copied(), false);
                    }
                }
                Geometry::GeometryCollection(collection) => geometries.extend(collection.0.iter()),
                _ => {}
            }
        }
        if table.geometry(row).is_none_or(|geometry| matches!(geometry, Geometry::Point(_) | Geometry::MultiPoint(_))) {
            let (x, y) = project(table.longitude(row), table.latitude(row));
            let _ = write!(
                svg,
                "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"3\" fill=\"#c33\"><title>{}</title></circle>",
                escape(table.id(row))
            );
        }
    }
    svg.push_str("</svg>");
    svg
}
