//! Piecewise-cubic interpolation on a Delaunay triangulation (Clough-Tocher): the `cubic` method
//! of `scipy.interpolate.griddata` (`CloughTocher2DInterpolator`), the MEDIDA study's classical
//! baseline.
//!
//! The gradient at every data point is chosen to minimise the curvature of the interpolant along
//! the triangulation's edges (Nielson 1983; Renka and Cline 1984; Gauss-Seidel, 400 sweeps at most,
//! stopping when no gradient changes by more than 1e-6, relative for gradients above 1, as scipy);
//! each triangle is then split at its centroid into three cubic Bezier patches that match the
//! values and gradients at the corners and are C1 across edges (Farin 1986), with the
//! cross-boundary direction taken towards the neighbouring triangle's centroid (affine-invariant,
//! as scipy). The triangulation is `delaunator`'s (robust predicates), so on points with
//! cocircular quadruples (a subset of a regular grid) it may pick the other diagonal than Qhull.

use super::interp::{Interpolator, grid_point, position};
use crate::error::DiscoveryError;
use medida_solver::Grid;

/// A Clough-Tocher interpolant of scattered data in the plane.
#[derive(Debug, Clone)]
pub struct CloughTocher2d {
    points: Vec<[f64; 2]>,
    values: Vec<f64>,
    gradients: Vec<[f64; 2]>,
    triangles: Vec<[usize; 3]>,
    /// The triangle across the edge opposite each corner (`None` on the hull).
    neighbours: Vec<[Option<usize>; 3]>,
}

/// Gauss-Seidel sweeps and tolerance of the gradient estimate (scipy's defaults).
const MAX_SWEEPS: usize = 400;
const TOLERANCE: f64 = 1e-6;

impl CloughTocher2d {
    /// The interpolant of `values` at `points` (at least three, not all on a line).
    pub fn new(points: &[[f64; 2]], values: &[f64]) -> Result<Self, DiscoveryError> {
        if points.len() != values.len() {
            return Err(DiscoveryError::Shape(format!(
                "cubic: {} points but {} values",
                points.len(),
                values.len()
            )));
        }
        let pts: Vec<delaunator::Point> = points
            .iter()
            .map(|p| delaunator::Point { x: p[0], y: p[1] })
            .collect();
        let tri = delaunator::triangulate(&pts);
        if tri.triangles.is_empty() {
            return Err(DiscoveryError::Degenerate(
                "cubic: the points have no triangulation (fewer than three, or all on a line)"
                    .into(),
            ));
        }
        let nt = tri.triangles.len() / 3;
        let triangles: Vec<[usize; 3]> = (0..nt)
            .map(|t| [0, 1, 2].map(|k| tri.triangles[3 * t + k]))
            .collect();
        // Half-edge 3t + j runs from corner j to corner j + 1: it is opposite corner j + 2.
        let neighbours = (0..nt)
            .map(|t| {
                [0, 1, 2].map(|k| {
                    let e = tri.halfedges[3 * t + (k + 1) % 3];
                    (e != delaunator::EMPTY).then_some(e / 3)
                })
            })
            .collect();
        let mut ct = Self {
            points: points.to_vec(),
            values: values.to_vec(),
            gradients: vec![[0.0; 2]; points.len()],
            triangles,
            neighbours,
        };
        ct.estimate_gradients();
        Ok(ct)
    }

    /// Minimises the summed squared second derivative of the interpolant along every edge, one
    /// vertex at a time (its 2 x 2 normal equations with the neighbours' gradients held fixed).
    fn estimate_gradients(&mut self) {
        let mut edges: Vec<Vec<usize>> = vec![Vec::new(); self.points.len()];
        for t in &self.triangles {
            for k in 0..3 {
                let (a, b) = (t[k], t[(k + 1) % 3]);
                edges[a].push(b);
                edges[b].push(a);
            }
        }
        for e in &mut edges {
            e.sort_unstable();
            e.dedup();
        }
        for _ in 0..MAX_SWEEPS {
            let mut err = 0.0f64;
            for (i, nbrs) in edges.iter().enumerate() {
                let (mut q, mut s) = ([0.0; 3], [0.0; 2]);
                for &j in nbrs {
                    let e = [
                        self.points[j][0] - self.points[i][0],
                        self.points[j][1] - self.points[i][1],
                    ];
                    let l3 = (e[0] * e[0] + e[1] * e[1]).powf(1.5);
                    // the neighbour's derivative along the edge, pointing back at vertex i
                    let d2 = -(e[0] * self.gradients[j][0] + e[1] * self.gradients[j][1]);
                    let r = 6.0 * (self.values[i] - self.values[j]) - 2.0 * d2;
                    q[0] += 4.0 * e[0] * e[0] / l3;
                    q[1] += 4.0 * e[0] * e[1] / l3;
                    q[2] += 4.0 * e[1] * e[1] / l3;
                    s[0] += r * e[0] / l3;
                    s[1] += r * e[1] / l3;
                }
                let det = q[0] * q[2] - q[1] * q[1];
                let g = [
                    -(q[2] * s[0] - q[1] * s[1]) / det,
                    -(q[0] * s[1] - q[1] * s[0]) / det,
                ];
                let old = self.gradients[i];
                let change = (old[0] - g[0]).abs().max((old[1] - g[1]).abs());
                err = err.max(change / g[0].abs().max(g[1].abs()).max(1.0));
                self.gradients[i] = g;
            }
            if err < TOLERANCE {
                break;
            }
        }
    }

    /// Barycentric coordinates of `p` in triangle `t`.
    fn barycentric(&self, t: usize, p: [f64; 2]) -> [f64; 3] {
        let [a, b, c] = self.triangles[t].map(|v| self.points[v]);
        let (m00, m01, m10, m11) = (b[0] - a[0], c[0] - a[0], b[1] - a[1], c[1] - a[1]);
        let det = m00 * m11 - m01 * m10;
        let (dx, dy) = (p[0] - a[0], p[1] - a[1]);
        let b1 = (m11 * dx - m01 * dy) / det;
        let b2 = (m00 * dy - m10 * dx) / det;
        [1.0 - b1 - b2, b1, b2]
    }

    /// The cubic on triangle `t` at barycentric coordinates `b`.
    fn cubic(&self, t: usize, b: [f64; 3]) -> f64 {
        let v = self.triangles[t];
        let p = v.map(|i| self.points[i]);
        let f = v.map(|i| self.values[i]);
        let grad = v.map(|i| self.gradients[i]);
        // the derivative at corner i along the edge towards corner j
        let along = |i: usize, j: usize| {
            grad[i][0] * (p[j][0] - p[i][0]) + grad[i][1] * (p[j][1] - p[i][1])
        };
        // Bezier ordinates: c[i] at corner i, e(i, j) next to corner i on the edge towards j,
        // m[i] on the segment from corner i to the centroid.
        let e = |i: usize, j: usize| f[i] + along(i, j) / 3.0;
        let (e01, e02, e10, e12, e20, e21) = (e(0, 1), e(0, 2), e(1, 0), e(1, 2), e(2, 0), e(2, 1));
        let m = [
            (f[0] + e01 + e02) / 3.0,
            (f[1] + e10 + e12) / 3.0,
            (f[2] + e20 + e21) / 3.0,
        ];
        // Cross-boundary direction: towards the neighbour's centroid (g = -1/2 on the hull).
        let g = [0, 1, 2].map(|k| match self.neighbours[t][k] {
            None => -0.5,
            Some(n) => {
                let tri = self.triangles[n].map(|i| self.points[i]);
                let centroid = [0, 1].map(|d| (tri[0][d] + tri[1][d] + tri[2][d]) / 3.0);
                let c = self.barycentric(t, centroid);
                let (a, b) = ((k + 2) % 3, (k + 1) % 3);
                (2.0 * c[a] + c[b] - 1.0) / (2.0 - 3.0 * c[a] - 3.0 * c[b])
            }
        });
        // interior ordinates next to each edge (opposite corner k), then around the centroid
        let c0111 = (g[0] * (-f[1] + 3.0 * e12 - 3.0 * e21 + f[2])
            + (-f[1] + 2.0 * e12 - e21 + m[2] + m[1]))
            / 2.0;
        let c1011 = (g[1] * (-f[2] + 3.0 * e20 - 3.0 * e02 + f[0])
            + (-f[2] + 2.0 * e20 - e02 + m[0] + m[2]))
            / 2.0;
        let c1101 = (g[2] * (-f[0] + 3.0 * e01 - 3.0 * e10 + f[1])
            + (-f[0] + 2.0 * e01 - e10 + m[0] + m[1]))
            / 2.0;
        let c1002 = (c1101 + c1011 + m[0]) / 3.0;
        let c0102 = (c1101 + c0111 + m[1]) / 3.0;
        let c0012 = (c1011 + c0111 + m[2]) / 3.0;
        let c0003 = (c1002 + c0102 + c0012) / 3.0;
        // the sub-triangle containing the point: shift by the smallest coordinate
        let min = b[0].min(b[1]).min(b[2]);
        let (b1, b2, b3, b4) = (b[0] - min, b[1] - min, b[2] - min, 3.0 * min);
        b1.powi(3) * f[0]
            + 3.0 * b1 * b1 * b2 * e01
            + 3.0 * b1 * b1 * b3 * e02
            + 3.0 * b1 * b1 * b4 * m[0]
            + 3.0 * b1 * b2 * b2 * e10
            + 6.0 * b1 * b2 * b4 * c1101
            + 3.0 * b1 * b3 * b3 * e20
            + 6.0 * b1 * b3 * b4 * c1011
            + 3.0 * b1 * b4 * b4 * c1002
            + b2.powi(3) * f[1]
            + 3.0 * b2 * b2 * b3 * e12
            + 3.0 * b2 * b2 * b4 * m[1]
            + 3.0 * b2 * b3 * b3 * e21
            + 6.0 * b2 * b3 * b4 * c0111
            + 3.0 * b2 * b4 * b4 * c0102
            + b3.powi(3) * f[2]
            + 3.0 * b3 * b3 * b4 * m[2]
            + 3.0 * b3 * b4 * b4 * c0012
            + b4.powi(3) * c0003
    }

    /// The interpolant at `queries`; NaN outside the convex hull of the points (as scipy).
    pub fn evaluate(&self, queries: &[[f64; 2]]) -> Vec<f64> {
        let locate = Locator::new(self);
        queries
            .iter()
            .map(|&q| match locate.find(self, q) {
                Some((t, b)) => self.cubic(t, b),
                None => f64::NAN,
            })
            .collect()
    }
}

/// Triangles bucketed by their bounding boxes on a uniform grid, for point location.
struct Locator {
    origin: [f64; 2],
    cell: [f64; 2],
    n: [usize; 2],
    buckets: Vec<Vec<usize>>,
}

impl Locator {
    fn new(ct: &CloughTocher2d) -> Self {
        let (mut lo, mut hi) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
        for p in &ct.points {
            for d in 0..2 {
                lo[d] = lo[d].min(p[d]);
                hi[d] = hi[d].max(p[d]);
            }
        }
        let side = (ct.triangles.len() as f64).sqrt().ceil().max(1.0) as usize;
        let n = [side, side];
        let cell = [0, 1].map(|d| ((hi[d] - lo[d]) / side as f64).max(f64::MIN_POSITIVE));
        let mut buckets = vec![Vec::new(); side * side];
        let to_cell = |v: f64, d: usize| (((v - lo[d]) / cell[d]) as usize).min(n[d] - 1);
        for (t, tri) in ct.triangles.iter().enumerate() {
            let pts = tri.map(|i| ct.points[i]);
            let r = [0, 1].map(|d| {
                let a = pts.iter().map(|p| p[d]).fold(f64::INFINITY, f64::min);
                let b = pts.iter().map(|p| p[d]).fold(f64::NEG_INFINITY, f64::max);
                (to_cell(a, d), to_cell(b, d))
            });
            for iy in r[1].0..=r[1].1 {
                for ix in r[0].0..=r[0].1 {
                    buckets[iy * n[0] + ix].push(t);
                }
            }
        }
        Self {
            origin: lo,
            cell,
            n,
            buckets,
        }
    }

    /// The triangle containing `q` and its barycentric coordinates (round-off tolerated on edges).
    fn find(&self, ct: &CloughTocher2d, q: [f64; 2]) -> Option<(usize, [f64; 3])> {
        let mut idx = [0; 2];
        for d in 0..2 {
            let c = ((q[d] - self.origin[d]) / self.cell[d]).floor();
            if c < -1e-9 || c > self.n[d] as f64 {
                return None;
            }
            idx[d] = (c.max(0.0) as usize).min(self.n[d] - 1);
        }
        self.buckets[idx[1] * self.n[0] + idx[0]]
            .iter()
            .map(|&t| (t, ct.barycentric(t, q)))
            .find(|(_, b)| b.iter().all(|v| *v >= -1e-10))
    }
}

/// Clough-Tocher interpolation of grid stations on the doubly periodic domain: the stations'
/// periodic images within `margin` grid spacings of the domain join the triangulation, so every
/// grid point lies inside it (scipy's griddata on the plane leaves NaN outside the stations' hull,
/// which the study's code fills with the nearest station).
#[derive(Debug, Clone, PartialEq)]
pub struct Cubic {
    grid: Grid,
    margin: usize,
}

impl Cubic {
    /// On `grid`, with periodic images within `margin` grid spacings (8 suffice unless a gap
    /// between stations is wider).
    pub fn new(grid: &Grid, margin: usize) -> Self {
        Self {
            grid: grid.clone(),
            margin,
        }
    }
}

impl Interpolator for Cubic {
    fn name(&self) -> String {
        format!("cubic (Clough-Tocher, periodic margin {})", self.margin)
    }

    fn interpolate(&self, stations: &[usize], values: &[f64]) -> Result<Vec<f64>, DiscoveryError> {
        let (nx, ny) = (self.grid.nx, self.grid.ny);
        let m = self.margin as f64;
        let inside =
            |ix: f64, iy: f64| ix >= -m && ix < nx as f64 + m && iy >= -m && iy < ny as f64 + m;
        let (mut points, mut vals) = (Vec::new(), Vec::new());
        for (&i, &v) in stations.iter().zip(values) {
            for sy in [-1.0, 0.0, 1.0] {
                for sx in [-1.0, 0.0, 1.0] {
                    let (ix, iy) = (
                        (i % nx) as f64 + sx * nx as f64,
                        (i / nx) as f64 + sy * ny as f64,
                    );
                    if inside(ix, iy) {
                        points.push(position(&self.grid, ix, iy));
                        vals.push(v);
                    }
                }
            }
        }
        let ct = CloughTocher2d::new(&points, &vals)?;
        let grid_points: Vec<[f64; 2]> = (0..nx * ny).map(|i| grid_point(&self.grid, i)).collect();
        let mut out = ct.evaluate(&grid_points);
        if out.iter().any(|v| v.is_nan()) {
            return Err(DiscoveryError::Degenerate(format!(
                "cubic: some grid points lie outside the stations' triangulation; a margin wider than {} grid spacings is needed",
                self.margin
            )));
        }
        for (&i, &v) in stations.iter().zip(values) {
            out[i] = v;
        }
        Ok(out)
    }
}
