//! What a [`Table`] holds on the heap, for the query cache's memory budget.
//!
//! Counted are the bytes each allocation asked of the allocator: a vector's
//! capacity times its element size, a boxed string's length, a boxed
//! geometry's size plus its coordinates, the R-tree's nodes. The allocator's
//! own per-allocation overhead (typically 8–16 bytes) is not, so the figure
//! is a lower bound of the resident memory a table costs.

use std::mem::size_of;

use rstar::{ParentNode, RTreeNode};

use super::{BoxEntry, Column, Table, TextIndex};

pub(super) fn vec_bytes<T>(items: &Vec<T>) -> usize {
    items.capacity() * size_of::<T>()
}

fn column_bytes(column: &Column) -> usize {
    match column {
        Column::String(cells) | Column::Geography(cells) => cells.heap_bytes(),
        Column::Int64(cells) => cells.heap_bytes(),
        Column::Double(cells) => cells.heap_bytes(),
        Column::Boolean(cells) => cells.heap_bytes(),
        Column::DateTime(cells) => cells.heap_bytes(),
    }
}

fn line_bytes(line: &geo::LineString<f64>) -> usize {
    vec_bytes(&line.0)
}

fn polygon_bytes(polygon: &geo::Polygon<f64>) -> usize {
    // `Polygon` does not expose its interiors' vector, so its length stands
    // for its capacity (they are built once, from parsed WKT).
    line_bytes(polygon.exterior())
        + std::mem::size_of_val(polygon.interiors())
        + polygon.interiors().iter().map(line_bytes).sum::<usize>()
}

/// Heap bytes a geometry owns (not counting the geometry value itself).
fn geometry_bytes(geometry: &geo::Geometry<f64>) -> usize {
    use geo::Geometry;
    match geometry {
        Geometry::Point(_) | Geometry::Line(_) | Geometry::Rect(_) | Geometry::Triangle(_) => 0,
        Geometry::LineString(line) => line_bytes(line),
        Geometry::Polygon(polygon) => polygon_bytes(polygon),
        Geometry::MultiPoint(points) => vec_bytes(&points.0),
        Geometry::MultiLineString(lines) => vec_bytes(&lines.0) + lines.0.iter().map(line_bytes).sum::<usize>(),
        Geometry::MultiPolygon(polygons) => {
            vec_bytes(&polygons.0) + polygons.0.iter().map(polygon_bytes).sum::<usize>()
        }
        Geometry::GeometryCollection(collection) => {
            vec_bytes(&collection.0) + collection.0.iter().map(geometry_bytes).sum::<usize>()
        }
    }
}

/// Gives back the spare capacity of a parsed geometry's coordinate vectors:
/// the WKT parser's vectors are reused in place by the conversion to `geo`
/// (a `Vec` of 48-byte WKT coordinates becomes one of 16-byte ones in the
/// same allocation), so without this a parsed ring holds three times the
/// memory its points need.
pub(super) fn shrink(geometry: &mut geo::Geometry<f64>) {
    use geo::Geometry;
    fn polygon(polygon: &mut geo::Polygon<f64>) {
        polygon.exterior_mut(|line| line.0.shrink_to_fit());
        polygon.interiors_mut(|lines| lines.iter_mut().for_each(|line| line.0.shrink_to_fit()));
    }
    match geometry {
        Geometry::Point(_) | Geometry::Line(_) | Geometry::Rect(_) | Geometry::Triangle(_) => {}
        Geometry::LineString(line) => line.0.shrink_to_fit(),
        Geometry::Polygon(shape) => polygon(shape),
        Geometry::MultiPoint(points) => points.0.shrink_to_fit(),
        Geometry::MultiLineString(lines) => lines.0.iter_mut().for_each(|line| line.0.shrink_to_fit()),
        Geometry::MultiPolygon(polygons) => polygons.0.iter_mut().for_each(polygon),
        Geometry::GeometryCollection(collection) => collection.0.iter_mut().for_each(shrink),
    }
}

/// Heap bytes of an R-tree node's children (the root sits inside the tree).
fn node_bytes(node: &ParentNode<BoxEntry>) -> usize {
    let children = node.children();
    std::mem::size_of_val(children)
        + children
            .iter()
            .map(|child| match child {
                RTreeNode::Parent(parent) => node_bytes(parent),
                RTreeNode::Leaf(_) => 0,
            })
            .sum::<usize>()
}

/// Everything a table holds but its lazily built indexes: computed once,
/// when the table is built (it walks every string).
pub(super) fn base_bytes(table: &Table) -> usize {
    let ids = table.ids.heap_bytes();
    let geometries = vec_bytes(&table.geometries)
        + table
            .geometries
            .iter()
            .flatten()
            .map(|geometry| size_of::<geo::Geometry<f64>>() + geometry_bytes(geometry))
            .sum::<usize>();
    size_of::<Table>()
        + ids
        + vec_bytes(&table.latitudes)
        + vec_bytes(&table.longitudes)
        + vec_bytes(&table.columns)
        + table.columns.iter().map(column_bytes).sum::<usize>()
        + geometries
        + table.points.heap_bytes()
        + node_bytes(table.shapes.root())
        + vec_bytes(&table.text_indexes)
}

/// A text index's heap bytes: computed once, when it is built.
pub(super) fn text_index_bytes(index: &TextIndex) -> usize {
    index.values.heap_bytes() + vec_bytes(&index.starts) + vec_bytes(&index.rows) + vec_bytes(&index.codes)
}

#[cfg(test)]
mod tests {
    use sds_core::{EdmType, Entity, Property, Schema, Value};

    use crate::table::{Table, TableBuilder};

    fn schema() -> Schema {
        Schema::new(
            "Places",
            vec![
                Property::new("Id", EdmType::String),
                Property::new("Name", EdmType::String),
                Property::new("Latitude", EdmType::Double),
                Property::new("Longitude", EdmType::Double),
                Property::new("Geom", EdmType::Geography),
            ],
            "Id",
        )
        .unwrap()
    }

    /// `rows` entities named `name(row)`, each with the geography `wkt`.
    fn table(rows: usize, name: impl Fn(usize) -> String, wkt: Option<&str>) -> Table {
        let mut builder = TableBuilder::new(schema(), rows);
        for row in 0..rows {
            let id = format!("{row:06}");
            let (latitude, longitude) = (row as f64 / 1000.0, row as f64 / 500.0);
            builder.push(Entity {
                id: id.clone(),
                latitude,
                longitude,
                bounds: None,
                values: vec![
                    Value::String(id),
                    Value::String(name(row)),
                    Value::Double(latitude),
                    Value::Double(longitude),
                    wkt.map_or(Value::Null, |text| Value::Geography(text.into())),
                ],
            });
        }
        builder.finish()
    }

    #[test]
    fn every_byte_of_a_string_cell_is_counted() {
        let short = table(1000, |row| format!("n{row}"), None);
        let long = table(1000, |row| format!("n{row}{}", "x".repeat(100)), None);
        assert_eq!(long.heap_bytes() - short.heap_bytes(), 1000 * 100);
    }

    #[test]
    fn the_table_costs_at_least_its_columns() {
        let rows = 5000;
        let table = table(rows, |row| format!("n{row}"), None);
        // Ids and names (an end offset each, plus its text), latitude and
        // longitude twice (columns and grid), the grid's row numbers.
        let floor = rows * (4 + 6) * 2 + rows * 8 * 4 + rows * 4;
        assert!(table.heap_bytes() >= floor, "{} < {floor}", table.heap_bytes());
        let grown = self::table(rows * 2, |row| format!("n{row}"), None);
        let ratio = grown.heap_bytes() as f64 / table.heap_bytes() as f64;
        assert!((1.8..2.2).contains(&ratio), "twice the rows, {ratio}× the bytes");
    }

    #[test]
    fn a_text_index_adds_its_bytes_once_built() {
        let table = table(2000, |row| format!("name {}", row % 50), None);
        let before = table.heap_bytes();
        assert_eq!(table.heap_bytes(), before, "measuring builds nothing");
        let index = table.text_index(1).expect("Name is a string column");
        let added = table.heap_bytes() - before;
        assert_eq!(added, super::text_index_bytes(index));
        // Its row list and row codes alone: 4 bytes each per row.
        assert!(added >= 2000 * 8, "{added}");
    }

    #[test]
    fn geographies_count_their_coordinates_and_tree() {
        let square = "POLYGON((0 0, 1 0, 1 1, 0 1, 0 0))";
        let ring: Vec<String> = (0..=400)
            .map(|point| format!("{} {}", (point % 400) as f64 / 400.0, (point % 400 % 7) as f64 / 7.0))
            .collect();
        let detailed = format!("POLYGON(({}))", ring.join(", "));
        let few = table(100, |_| String::new(), Some(square));
        let many = table(100, |_| String::new(), Some(&detailed));
        let coordinate_bytes = 100 * (401 - 5) * 16;
        // The uploaded WKT text is kept too, and is longer.
        let text_bytes = 100 * (detailed.len() - square.len());
        assert_eq!(many.heap_bytes() - few.heap_bytes(), coordinate_bytes + text_bytes);
        let points = table(100, |_| String::new(), None);
        assert!(few.heap_bytes() > points.heap_bytes() + 100 * 32, "R-tree boxes and parsed polygons");
    }
}
