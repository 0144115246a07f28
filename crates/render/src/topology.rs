//! Geometry of the topology drawing: where links run, and which link a
//! dragged NAT box was dropped on.

/// Distance from point `p` to the segment `a`-`b`.
pub fn distance_to_segment(p: [f64; 2], a: [f64; 2], b: [f64; 2]) -> f64 {
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    let len2 = dx * dx + dy * dy;
    let t = if len2 == 0.0 {
        0.0
    } else {
        (((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / len2).clamp(0.0, 1.0)
    };
    let (cx, cy) = (a[0] + t * dx, a[1] + t * dy);
    ((p[0] - cx).powi(2) + (p[1] - cy).powi(2)).sqrt()
}

/// The segment nearest to `p` within `max` units, by index.
pub fn nearest_segment(p: [f64; 2], segments: &[([f64; 2], [f64; 2])], max: f64) -> Option<usize> {
    segments
        .iter()
        .enumerate()
        .map(|(i, (a, b))| (i, distance_to_segment(p, *a, *b)))
        .filter(|(_, d)| *d <= max)
        .min_by(|x, y| x.1.total_cmp(&y.1))
        .map(|(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        assert_eq!(
            distance_to_segment([5.0, 3.0], [0.0, 0.0], [10.0, 0.0]),
            3.0
        );
        assert_eq!(
            distance_to_segment([-4.0, 3.0], [0.0, 0.0], [10.0, 0.0]),
            5.0
        );
        let segs = [([0.0, 0.0], [10.0, 0.0]), ([0.0, 10.0], [10.0, 10.0])];
        assert_eq!(nearest_segment([5.0, 8.0], &segs, 5.0), Some(1));
        assert_eq!(nearest_segment([5.0, 50.0], &segs, 5.0), None);
    }
}
