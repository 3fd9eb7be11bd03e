//! One data source version in memory, ready to query: typed columns (one
//! vector per property, no per-row allocation besides strings), the
//! entities' geographies (in an R-tree of their boxes) and the points of
//! the entities without one (in a grid, see `grid`; each entity is in one
//! of the two), and lazily built sorted indexes of string columns for
//! `eq`, `in` and `startswith`.
//!
//! Rows are numbered in entity-ID order (the order the store streams a
//! version in), so "sort by entity ID" is "sort by row".

use std::str::FromStr;
use std::sync::OnceLock;

use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{RTree, AABB};
use sds_core::{EdmType, Entity, Schema, Timestamp, Value};

use crate::column_index::ColumnIndex;
use crate::fold::{cmp_folded, fold};
use crate::grid::{GridCell, PointGrid};
use crate::spatial::sphere::LonLatBox;

mod heap;
mod nullable;
pub mod snapshot;
mod text;

pub use nullable::{NullBits, Nullable, Placeholder};
pub use text::TextColumn;

pub type BoxEntry = GeomWithData<Rectangle<[f64; 2]>, u32>;

/// A property column.
pub enum Column {
    /// Never null (a null reads as the empty string).
    String(TextColumn),
    Int64(Nullable<i64>),
    Double(Nullable<f64>),
    Boolean(Nullable<bool>),
    DateTime(Nullable<Timestamp>),
    /// The WKT text as uploaded, for output.
    Geography(TextColumn),
}

/// One value of a column, borrowed (the same type the download writers read).
pub use sds_core::ValueRef as Cell;

impl Column {
    fn new(edm_type: EdmType, capacity: usize) -> Column {
        match edm_type {
            EdmType::String => Column::String(TextColumn::with_capacity(capacity)),
            EdmType::Int64 => Column::Int64(Nullable::with_capacity(capacity)),
            EdmType::Double => Column::Double(Nullable::with_capacity(capacity)),
            EdmType::Boolean => Column::Boolean(Nullable::with_capacity(capacity)),
            EdmType::DateTime => Column::DateTime(Nullable::with_capacity(capacity)),
            EdmType::Geography => Column::Geography(TextColumn::with_capacity(capacity)),
        }
    }

    fn push(&mut self, value: Value) {
        match (self, value) {
            (Column::String(cells), Value::String(text)) => cells.push(Some(&text)),
            (Column::Int64(cells), Value::Int64(number)) => cells.push(Some(number)),
            (Column::Double(cells), Value::Double(number)) => cells.push(Some(number)),
            (Column::Double(cells), Value::Int64(number)) => cells.push(Some(number as f64)),
            (Column::Boolean(cells), Value::Boolean(flag)) => cells.push(Some(flag)),
            (Column::DateTime(cells), Value::DateTime(timestamp)) => cells.push(Some(timestamp)),
            (Column::Geography(cells), Value::Geography(text)) => cells.push(Some(&text)),
            // Edm.String is never null; versions loaded before that rule
            // may still hold nulls, which read as the empty string.
            (Column::String(cells), _) => cells.push(Some("")),
            (Column::Geography(cells), _) => cells.push(None),
            (Column::Int64(cells), _) => cells.push(None),
            (Column::Double(cells), _) => cells.push(None),
            (Column::Boolean(cells), _) => cells.push(None),
            (Column::DateTime(cells), _) => cells.push(None),
        }
    }

    pub fn cell(&self, row: usize) -> Cell<'_> {
        match self {
            Column::String(cells) => cells.get(row).map_or(Cell::Null, Cell::String),
            Column::Geography(cells) => cells.get(row).map_or(Cell::Null, Cell::Geography),
            Column::Int64(cells) => cells.get(row).map_or(Cell::Null, Cell::Int64),
            Column::Double(cells) => cells.get(row).map_or(Cell::Null, Cell::Double),
            Column::Boolean(cells) => cells.get(row).map_or(Cell::Null, Cell::Boolean),
            Column::DateTime(cells) => cells.get(row).map_or(Cell::Null, Cell::DateTime),
        }
    }
}

/// Rows of a string column sorted by folded value (then row), so that
/// `eq` finds a run of rows already in row order and `startswith` a range;
/// plus each row's value code (the rank of its folded value among the
/// distinct values), so testing a row against `eq`/`in`/`startswith` is an
/// integer comparison instead of a string one.
pub struct TextIndex {
    /// Distinct folded values, sorted.
    values: TextColumn,
    /// Start of each value's rows in `rows`; `values.len() + 1` entries.
    starts: Vec<u32>,
    rows: Vec<u32>,
    /// The code of each row's value; [`TextIndex::NULL`] for null.
    codes: Vec<u32>,
    /// Heap bytes of the above, measured once built.
    heap_bytes: usize,
}

/// A half-open range of value codes.
pub type CodeRange = (u32, u32);

impl TextIndex {
    pub const NULL: u32 = u32::MAX;

    fn build(cells: &TextColumn) -> TextIndex {
        // Folding borrows the text when it is already folded (most is).
        // Sized up front: grown by doubling, the pairs left twice their
        // size of freed memory behind, which the allocator keeps resident.
        let mut pairs: Vec<(std::borrow::Cow<'_, str>, u32)> = Vec::with_capacity(cells.len());
        pairs.extend(cells.iter().enumerate().filter_map(|(row, cell)| cell.map(|text| (fold(text), row as u32))));
        pairs.sort_unstable();
        let mut index = TextIndex {
            values: TextColumn::default(),
            starts: Vec::new(),
            rows: Vec::with_capacity(pairs.len()),
            codes: vec![TextIndex::NULL; cells.len()],
            heap_bytes: 0,
        };
        let mut last: Option<&str> = None;
        for (position, (value, row)) in pairs.iter().enumerate() {
            let row = *row;
            if last != Some(value.as_ref()) {
                index.values.push(Some(value));
                index.starts.push(position as u32);
                last = Some(value.as_ref());
            }
            index.codes[row as usize] = (index.values.len() - 1) as u32;
            index.rows.push(row);
        }
        index.starts.push(index.rows.len() as u32);
        index.values.shrink_to_fit();
        index.starts.shrink_to_fit();
        index.heap_bytes = heap::text_index_bytes(&index);
        index
    }

    /// The codes of the values equal to `folded` (an empty range when none).
    pub fn equal_codes(&self, folded: &str) -> CodeRange {
        let start = self.values.partition_point(|value| value < folded);
        let end = start + usize::from(start < self.values.len() && self.values.text(start) == folded);
        (start as u32, end as u32)
    }

    /// The codes of the values starting with `folded_prefix`.
    pub fn prefix_codes(&self, folded_prefix: &str) -> CodeRange {
        let start = self.values.partition_point(|value| value < folded_prefix);
        // Values starting with the prefix follow it in a run.
        let end = self.values.partition_point(|value| value < folded_prefix || value.starts_with(folded_prefix));
        (start as u32, end as u32)
    }

    /// The rows of a code range: in row order within each code.
    pub fn rows_of(&self, (start, end): CodeRange) -> &[u32] {
        &self.rows[self.starts[start as usize] as usize..self.starts[end as usize] as usize]
    }

    /// Rows whose value equals `folded`, in row order.
    pub fn equal(&self, folded: &str) -> &[u32] {
        self.rows_of(self.equal_codes(folded))
    }

    /// Rows whose value starts with `folded_prefix`, in value order.
    pub fn prefixed(&self, folded_prefix: &str) -> &[u32] {
        self.rows_of(self.prefix_codes(folded_prefix))
    }

    /// The code of a row's value.
    pub fn code(&self, row: u32) -> u32 {
        self.codes[row as usize]
    }
}

pub struct Table {
    schema: Schema,
    ids: TextColumn,
    latitudes: Vec<f64>,
    longitudes: Vec<f64>,
    columns: Vec<Column>,
    /// Parsed geographies, when the schema has a geography property.
    geometries: Vec<Option<Box<geo::Geometry<f64>>>>,
    points: PointGrid,
    /// Bounding boxes of the entities that have a geography.
    shapes: RTree<BoxEntry>,
    text_indexes: Vec<OnceLock<TextIndex>>,
    /// Sorted indexes of the other columns (see `column_index`), built on first use.
    column_indexes: Vec<OnceLock<Option<ColumnIndex>>>,
    /// Heap bytes of everything but the text indexes, measured once built.
    base_bytes: usize,
    /// The bounding box of every entity, computed on first use.
    extent: OnceLock<Option<LonLatBox>>,
}

pub struct TableBuilder {
    schema: Schema,
    ids: TextColumn,
    latitudes: Vec<f64>,
    longitudes: Vec<f64>,
    columns: Vec<Column>,
    geometries: Vec<Option<Box<geo::Geometry<f64>>>>,
    geography_index: Option<usize>,
}

/// A geography's WKT parsed for the spatial tests; `None` when it does not parse.
fn parse_geometry(text: &str) -> Option<Box<geo::Geometry<f64>>> {
    let mut geometry = geo::Geometry::try_from(wkt::Wkt::<f64>::from_str(text).ok()?).ok()?;
    heap::shrink(&mut geometry);
    Some(Box::new(geometry))
}

impl TableBuilder {
    pub fn new(schema: Schema, capacity: usize) -> TableBuilder {
        let columns = schema.properties.iter().map(|property| Column::new(property.edm_type, capacity)).collect();
        let geography_index = schema.geography_index();
        TableBuilder {
            schema,
            ids: TextColumn::with_capacity(capacity),
            latitudes: Vec::with_capacity(capacity),
            longitudes: Vec::with_capacity(capacity),
            columns,
            geometries: Vec::new(),
            geography_index,
        }
    }

    /// Adds an entity; entities should come in entity-ID order.
    pub fn push(&mut self, entity: Entity) {
        let Entity { id, latitude, longitude, values, .. } = entity;
        if let Some(index) = self.geography_index {
            let geometry = match values.get(index) {
                Some(Value::Geography(text)) => parse_geometry(text),
                _ => None,
            };
            self.geometries.push(geometry);
        }
        self.ids.push(Some(&id));
        self.latitudes.push(latitude);
        self.longitudes.push(longitude);
        let mut values = values.into_iter();
        for column in &mut self.columns {
            column.push(values.next().unwrap_or(Value::Null));
        }
    }

    pub fn finish(self) -> Table {
        self.finish_with(None)
    }

    /// Finishes with the point grid given (read from a snapshot), or a new one.
    fn finish_with(self, grid: Option<PointGrid>) -> Table {
        let TableBuilder { schema, mut ids, latitudes, longitudes, mut columns, mut geometries, .. } = self;
        debug_assert!(
            (1..ids.len()).all(|row| fold(ids.text(row - 1)) <= fold(ids.text(row))),
            "entities must come in entity-ID order"
        );
        ids.shrink_to_fit();
        geometries.shrink_to_fit();
        for column in &mut columns {
            match column {
                Column::String(cells) | Column::Geography(cells) => cells.shrink_to_fit(),
                Column::Int64(cells) => cells.shrink_to_fit(),
                Column::Double(cells) => cells.shrink_to_fit(),
                Column::Boolean(cells) => cells.shrink_to_fit(),
                Column::DateTime(cells) => cells.shrink_to_fit(),
            }
        }
        let mut boxes = Vec::new();
        for (row, geometry) in geometries.iter_mut().enumerate() {
            match geometry.as_deref().and_then(geo::BoundingRect::bounding_rect) {
                Some(rect) => boxes.push(BoxEntry::new(
                    Rectangle::from_corners([rect.min().x, rect.min().y], [rect.max().x, rect.max().y]),
                    row as u32,
                )),
                // An empty geography has no place: the entity's point stands for it.
                None => *geometry = None,
            }
        }
        let shapes = RTree::bulk_load(boxes);
        // Each entity is in exactly one index: its geography's box in the
        // R-tree, or else its point in the grid.
        let points = grid.unwrap_or_else(|| {
            PointGrid::build_where(&longitudes, &latitudes, |row| {
                geometries.get(row).is_none_or(|geometry| geometry.is_none())
            })
        });
        let text_indexes = columns.iter().map(|_| OnceLock::new()).collect();
        let column_indexes = columns.iter().map(|_| OnceLock::new()).collect();
        let mut table = Table {
            schema,
            ids,
            latitudes,
            longitudes,
            columns,
            geometries,
            points,
            shapes,
            text_indexes,
            column_indexes,
            base_bytes: 0,
            extent: OnceLock::new(),
        };
        table.base_bytes = heap::base_bytes(&table);
        table
    }
}

impl Table {
    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// The box (lon/lat degrees) around every entity's geography, or its
    /// point when it has none; `None` for an empty table. Computed once per
    /// table, i.e. per version (OGC API – Features collection extents).
    pub fn extent(&self) -> Option<LonLatBox> {
        *self.extent.get_or_init(|| {
            let mut extent: Option<LonLatBox> = None;
            let mut add = |min_lon: f64, min_lat: f64, max_lon: f64, max_lat: f64| {
                let grown = match extent {
                    None => LonLatBox { min_lon, min_lat, max_lon, max_lat },
                    Some(known) => LonLatBox {
                        min_lon: known.min_lon.min(min_lon),
                        min_lat: known.min_lat.min(min_lat),
                        max_lon: known.max_lon.max(max_lon),
                        max_lat: known.max_lat.max(max_lat),
                    },
                };
                extent = Some(grown);
            };
            for row in 0..self.len() as u32 {
                match self.geometry(row).and_then(geo::BoundingRect::bounding_rect) {
                    Some(rect) => add(rect.min().x, rect.min().y, rect.max().x, rect.max().y),
                    None => {
                        let (lon, lat) = (self.longitude(row), self.latitude(row));
                        add(lon, lat, lon, lat);
                    }
                }
            }
            extent
        })
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    pub fn id(&self, row: u32) -> &str {
        self.ids.text(row as usize)
    }

    /// Bytes of text `row` holds: its id and its strings and geographies
    /// (what a download of it grows with); cheap, no text is read.
    pub fn text_bytes(&self, row: u32) -> usize {
        let row = row as usize;
        let cells = self.columns.iter().map(|column| match column {
            Column::String(cells) | Column::Geography(cells) => cells.byte_len(row),
            _ => 0,
        });
        self.ids.byte_len(row) + cells.sum::<usize>()
    }

    pub fn latitude(&self, row: u32) -> f64 {
        self.latitudes[row as usize]
    }

    pub fn longitude(&self, row: u32) -> f64 {
        self.longitudes[row as usize]
    }

    pub fn column(&self, index: usize) -> &Column {
        &self.columns[index]
    }

    pub fn cell(&self, column: usize, row: u32) -> Cell<'_> {
        self.columns[column].cell(row as usize)
    }

    /// The entity's geography; `None` when it has none (or an empty one),
    /// and then its point stands for it.
    pub fn geometry(&self, row: u32) -> Option<&geo::Geometry<f64>> {
        self.geometries.get(row as usize).and_then(|geometry| geometry.as_deref())
    }

    /// The row of an entity ID (case-insensitive).
    pub fn find(&self, id: &str) -> Option<u32> {
        let folded = fold(id);
        let row = self.ids.partition_point(|candidate| cmp_folded(candidate, &folded).is_lt());
        (row < self.ids.len() && cmp_folded(self.ids.text(row), &folded).is_eq()).then_some(row as u32)
    }

    /// The sorted index of a string column, built on first use.
    pub fn text_index(&self, column: usize) -> Option<&TextIndex> {
        let Column::String(cells) = &self.columns[column] else {
            return None;
        };
        Some(self.text_indexes[column].get_or_init(|| TextIndex::build(cells)))
    }

    /// The sorted index of an Int64, Double, Boolean or DateTime column,
    /// built on first use; `None` for other columns.
    pub fn column_index(&self, column: usize) -> Option<&ColumnIndex> {
        self.column_indexes[column].get_or_init(|| ColumnIndex::build(&self.columns[column])).as_ref()
    }

    /// Heap bytes of the column indexes built so far (4 per row each), for
    /// cache accounting: they grow after the table is cached.
    pub fn column_index_bytes(&self) -> usize {
        self.column_indexes.iter().filter_map(|index| index.get()?.as_ref()).map(ColumnIndex::heap_bytes).sum()
    }

    /// Visits the rows without a geography whose point lies in a box.
    pub fn points_in(&self, area: &LonLatBox, visit: &mut impl FnMut(u32)) {
        self.points.points_in(area, visit);
    }

    /// Visits the grid cells of points that may lie in a box (see [`PointGrid::cells`]).
    pub fn point_cells(&self, area: &LonLatBox, visit: impl FnMut(GridCell<'_>)) {
        self.points.cells(area, visit);
    }

    /// Visits the rows with a geography whose bounding box meets a box.
    pub fn shapes_meeting(&self, area: &LonLatBox, visit: &mut impl FnMut(u32)) {
        let envelope = AABB::from_corners([area.min_lon, area.min_lat], [area.max_lon, area.max_lat]);
        for entry in self.shapes.locate_in_envelope_intersecting(&envelope) {
            visit(entry.data);
        }
    }

    /// The rows with a geography whose bounding box meets any of the
    /// boxes, ascending, each once.
    pub fn shapes_meeting_any(&self, areas: &[LonLatBox]) -> Vec<u32> {
        let mut rows = Vec::new();
        if self.shapes.size() == 0 {
            return rows;
        }
        for area in areas {
            self.shapes_meeting(area, &mut |row| rows.push(row));
        }
        rows.sort_unstable();
        rows.dedup();
        rows
    }

    /// The part of the entity inside a shape (through its geography, else its point), as WKT.
    pub fn intersection_wkt(&self, shape: &crate::spatial::Shape, row: u32) -> String {
        match self.geometry(row) {
            Some(geometry) => shape.intersection_wkt(geometry),
            None => {
                shape.intersection_wkt(&geo::Geometry::Point(geo::Point::new(self.longitude(row), self.latitude(row))))
            }
        }
    }

    /// The bytes this table holds on the heap: its columns, parsed
    /// geographies, grid, R-tree and the string and column indexes built
    /// so far (an index built by a query adds to it from then on). Linear
    /// in the number of properties; see `table/heap.rs` for what is counted
    /// (allocator overhead is not).
    pub fn heap_bytes(&self) -> usize {
        let indexes: usize = self.text_indexes.iter().filter_map(OnceLock::get).map(|index| index.heap_bytes).sum();
        self.base_bytes + indexes + self.column_index_bytes()
    }
}
