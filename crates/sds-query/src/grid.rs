//! The points of the entities without a geography (SPEC §5: the others
//! are tested through their geography) in a flat uniform grid over their bounding box:
//! each cell's points stored contiguously (longitudes, latitudes and rows
//! in three arrays, each cell in row order). A box query visits the few
//! cells it overlaps and scans them linearly; cells wholly inside the box
//! need no per-point test. For points this beats a pointer-linked R-tree
//! several times over (no node traversal, sequential memory), and the
//! per-cell row order lets a top-k in entity-ID order stop early per cell.

use crate::spatial::sphere::LonLatBox;

/// Slack so a cell counts as "inside" a box only when rounding in the
/// cell arithmetic cannot have put one of its points outside.
const MARGIN: f64 = 1e-9;

pub struct PointGrid {
    pub(crate) min_lon: f64,
    pub(crate) min_lat: f64,
    pub(crate) cell_width: f64,
    pub(crate) cell_height: f64,
    pub(crate) columns: usize,
    pub(crate) lines: usize,
    /// Start of each cell's points; `columns * lines + 1` entries.
    pub(crate) offsets: Vec<u32>,
    pub(crate) longitudes: Vec<f64>,
    pub(crate) latitudes: Vec<f64>,
    pub(crate) rows: Vec<u32>,
}

/// The points of one grid cell met by a box.
pub struct GridCell<'a> {
    pub longitudes: &'a [f64],
    pub latitudes: &'a [f64],
    pub rows: &'a [u32],
    /// The cell's nominal rectangle.
    pub rect: LonLatBox,
    /// Every point of the cell is inside the queried box.
    pub inside: bool,
}

impl PointGrid {
    /// Indexes points given in row order.
    pub fn build(longitudes: &[f64], latitudes: &[f64]) -> PointGrid {
        PointGrid::build_where(longitudes, latitudes, |_| true)
    }

    /// Indexes the points of the rows `include` accepts (the others are
    /// found elsewhere: entities with a geography are in the table's R-tree).
    pub fn build_where(longitudes: &[f64], latitudes: &[f64], include: impl Fn(usize) -> bool) -> PointGrid {
        let included: Vec<u32> = (0..longitudes.len()).filter(|&row| include(row)).map(|row| row as u32).collect();
        let count = included.len();
        let finite = |value: &f64| value.is_finite();
        let (mut min_lon, mut max_lon, mut min_lat, mut max_lat) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
        if count > 0 {
            let bounds = |values: &[f64]| {
                included
                    .iter()
                    .map(|&row| values[row as usize])
                    .filter(finite)
                    .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)))
            };
            (min_lon, max_lon) = bounds(longitudes);
            (min_lat, max_lat) = bounds(latitudes);
            if !min_lon.is_finite() {
                (min_lon, max_lon, min_lat, max_lat) = (0.0, 0.0, 0.0, 0.0);
            }
        }
        // About four cells per point over the bounding box: a few points
        // per occupied cell where data is dense, and a bounded offsets array.
        let width = (max_lon - min_lon).max(1e-6);
        let height = (max_lat - min_lat).max(1e-6);
        let cells = (count * 4).clamp(1, 1 << 22) as f64;
        let side = (width * height / cells).sqrt();
        let columns = ((width / side).ceil() as usize).clamp(1, 1 << 16);
        let lines = ((height / side).ceil() as usize).clamp(1, 1 << 16);
        let mut grid = PointGrid {
            min_lon,
            min_lat,
            cell_width: width / columns as f64,
            cell_height: height / lines as f64,
            columns,
            lines,
            offsets: vec![0; columns * lines + 1],
            longitudes: Vec::with_capacity(count),
            latitudes: Vec::with_capacity(count),
            rows: Vec::with_capacity(count),
        };
        let cell_of: Vec<u32> = included
            .iter()
            .map(|&row| grid.cell_of(longitudes[row as usize], latitudes[row as usize]) as u32)
            .collect();
        for &cell in &cell_of {
            grid.offsets[cell as usize + 1] += 1;
        }
        for index in 1..grid.offsets.len() {
            grid.offsets[index] += grid.offsets[index - 1];
        }
        // Counting sort: stable, so each cell keeps row order.
        let mut next = grid.offsets.clone();
        let mut order = vec![0u32; count];
        for (&row, &cell) in included.iter().zip(&cell_of) {
            order[next[cell as usize] as usize] = row;
            next[cell as usize] += 1;
        }
        for row in order {
            grid.longitudes.push(longitudes[row as usize]);
            grid.latitudes.push(latitudes[row as usize]);
            grid.rows.push(row);
        }
        grid
    }

    fn column(&self, longitude: f64) -> usize {
        let index = ((longitude - self.min_lon) / self.cell_width).floor();
        // NaN and out-of-range values land in an edge cell (`as` saturates).
        (index.max(0.0) as usize).min(self.columns - 1)
    }

    fn line(&self, latitude: f64) -> usize {
        let index = ((latitude - self.min_lat) / self.cell_height).floor();
        (index.max(0.0) as usize).min(self.lines - 1)
    }

    fn cell_of(&self, longitude: f64, latitude: f64) -> usize {
        self.line(latitude) * self.columns + self.column(longitude)
    }

    /// Calls `visit` with each non-empty cell that may hold points of `area`.
    pub fn cells(&self, area: &LonLatBox, mut visit: impl FnMut(GridCell<'_>)) {
        if self.rows.is_empty()
            || area.max_lon < self.min_lon
            || area.max_lat < self.min_lat
            || area.min_lon > self.min_lon + self.cell_width * self.columns as f64
            || area.min_lat > self.min_lat + self.cell_height * self.lines as f64
        {
            return;
        }
        let (first_column, last_column) = (self.column(area.min_lon), self.column(area.max_lon));
        for line in self.line(area.min_lat)..=self.line(area.max_lat) {
            let min_lat = self.min_lat + line as f64 * self.cell_height;
            let max_lat = min_lat + self.cell_height;
            let lat_inside = line > 0
                && line + 1 < self.lines
                && min_lat - MARGIN >= area.min_lat
                && max_lat + MARGIN <= area.max_lat;
            for column in first_column..=last_column {
                let cell = line * self.columns + column;
                let (start, end) = (self.offsets[cell] as usize, self.offsets[cell + 1] as usize);
                if start == end {
                    continue;
                }
                let min_lon = self.min_lon + column as f64 * self.cell_width;
                let max_lon = min_lon + self.cell_width;
                // Edge cells also hold points clamped into them: never "inside".
                let inside = lat_inside
                    && column > 0
                    && column + 1 < self.columns
                    && min_lon - MARGIN >= area.min_lon
                    && max_lon + MARGIN <= area.max_lon;
                visit(GridCell {
                    longitudes: &self.longitudes[start..end],
                    latitudes: &self.latitudes[start..end],
                    rows: &self.rows[start..end],
                    rect: LonLatBox { min_lon, min_lat, max_lon, max_lat },
                    inside,
                });
            }
        }
    }

    /// Calls `visit` with each row whose point lies in `area`.
    pub fn points_in(&self, area: &LonLatBox, visit: &mut impl FnMut(u32)) {
        self.cells(area, |cell| {
            if cell.inside {
                cell.rows.iter().for_each(|&row| visit(row));
                return;
            }
            for index in 0..cell.rows.len() {
                if area.contains(cell.longitudes[index], cell.latitudes[index]) {
                    visit(cell.rows[index]);
                }
            }
        });
    }

    /// Heap bytes of the grid's vectors (their capacity).
    pub fn heap_bytes(&self) -> usize {
        self.offsets.capacity() * size_of::<u32>()
            + (self.longitudes.capacity() + self.latitudes.capacity()) * size_of::<f64>()
            + self.rows.capacity() * size_of::<u32>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic scatter of points, dense in one corner.
    fn points() -> (Vec<f64>, Vec<f64>) {
        let mut state = 12345u64;
        let mut next = || {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let (mut lons, mut lats) = (Vec::new(), Vec::new());
        for index in 0..5000 {
            let (lon, lat) = if index % 3 == 0 {
                (next() * 2.0, next() * 2.0)
            } else {
                (next() * 360.0 - 180.0, next() * 180.0 - 90.0)
            };
            lons.push(lon);
            lats.push(lat);
        }
        lons.extend([180.0, -180.0, 0.0]);
        lats.extend([90.0, -90.0, 0.0]);
        (lons, lats)
    }

    #[test]
    fn box_queries_match_a_scan() {
        let (lons, lats) = points();
        let grid = PointGrid::build(&lons, &lats);
        for area in [
            LonLatBox { min_lon: 0.5, min_lat: 0.5, max_lon: 1.5, max_lat: 1.5 },
            LonLatBox { min_lon: -180.0, min_lat: -90.0, max_lon: 180.0, max_lat: 90.0 },
            LonLatBox { min_lon: 170.0, min_lat: 80.0, max_lon: 180.0, max_lat: 90.0 },
            LonLatBox { min_lon: 0.0, min_lat: 0.0, max_lon: 0.0, max_lat: 0.0 },
            LonLatBox { min_lon: 200.0, min_lat: 0.0, max_lon: 210.0, max_lat: 1.0 },
        ] {
            let mut found = Vec::new();
            grid.points_in(&area, &mut |row| found.push(row));
            found.sort_unstable();
            let expected: Vec<u32> =
                (0..lons.len()).filter(|&row| area.contains(lons[row], lats[row])).map(|row| row as u32).collect();
            assert_eq!(found, expected, "{area:?}");
        }
    }

    #[test]
    fn rows_left_out_are_never_visited() {
        let (lons, lats) = points();
        let grid = PointGrid::build_where(&lons, &lats, |row| row % 2 == 0);
        let world = LonLatBox { min_lon: -180.0, min_lat: -90.0, max_lon: 180.0, max_lat: 90.0 };
        let mut found = Vec::new();
        grid.points_in(&world, &mut |row| found.push(row));
        found.sort_unstable();
        assert_eq!(found, (0..lons.len() as u32).step_by(2).collect::<Vec<_>>());
    }

    #[test]
    fn cells_keep_row_order_and_empty_grids_answer_nothing() {
        let (lons, lats) = points();
        let grid = PointGrid::build(&lons, &lats);
        grid.cells(&LonLatBox { min_lon: -180.0, min_lat: -90.0, max_lon: 180.0, max_lat: 90.0 }, |cell| {
            assert!(cell.rows.windows(2).all(|pair| pair[0] < pair[1]));
        });
        let empty = PointGrid::build(&[], &[]);
        let mut any = false;
        empty.points_in(&LonLatBox { min_lon: -1.0, min_lat: -1.0, max_lon: 1.0, max_lat: 1.0 }, &mut |_| any = true);
        assert!(!any);
    }
}
