//! The drawn rows of a layout, in chunks that a copy shares.
//!
//! The page lays out a growing chart on every tick and keeps the rows of
//! the last layout to pick up from (see `LayoutCache`), while the view it
//! returned is still shown: a copy of the rows must not cost every row of
//! a long run. Full chunks never change, so a copy holds another pointer
//! to each of them and copies only the last, partly filled one.

use super::RowView;
use std::rc::Rc;

/// Rows per chunk: a power of two, so an index splits with a shift.
const SHIFT: u32 = 8;
const CHUNK: usize = 1 << SHIFT;

#[derive(Clone, Default)]
pub struct ViewRows {
    full: Vec<Rc<[Rc<RowView>]>>,
    /// The rows after the full chunks (fewer than `CHUNK`).
    tail: Vec<Rc<RowView>>,
}

impl ViewRows {
    pub fn len(&self) -> usize {
        (self.full.len() << SHIFT) + self.tail.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn get(&self, i: usize) -> Option<&Rc<RowView>> {
        match self.full.get(i >> SHIFT) {
            Some(c) => c.get(i & (CHUNK - 1)),
            None => self.tail.get(i - (self.full.len() << SHIFT)),
        }
    }

    pub fn last(&self) -> Option<&Rc<RowView>> {
        self.len().checked_sub(1).and_then(|i| self.get(i))
    }

    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &Rc<RowView>> + '_ {
        self.full.iter().flat_map(|c| c.iter()).chain(&self.tail)
    }

    pub fn push(&mut self, row: Rc<RowView>) {
        self.tail.push(row);
        if self.tail.len() == CHUNK {
            let full = std::mem::take(&mut self.tail);
            self.full.push(full.into());
        }
    }

    /// Keeps the first `n` rows.
    pub fn truncate(&mut self, n: usize) {
        let chunks = n >> SHIFT;
        if chunks < self.full.len() {
            self.tail = self.full[chunks][..n & (CHUNK - 1)].to_vec();
            self.full.truncate(chunks);
        } else {
            self.tail.truncate(n - (chunks << SHIFT));
        }
    }

    /// The index of the first row for which `pred` is false, all rows
    /// before it making it true (as `slice::partition_point`).
    pub fn partition_point(&self, pred: impl Fn(&RowView) -> bool) -> usize {
        let whole = self
            .full
            .partition_point(|c| c.last().is_some_and(|r| pred(r)));
        match self.full.get(whole) {
            Some(c) => (whole << SHIFT) + c.partition_point(|r| pred(r)),
            None => (whole << SHIFT) + self.tail.partition_point(|r| pred(r)),
        }
    }
}

impl std::ops::Index<usize> for ViewRows {
    type Output = Rc<RowView>;
    fn index(&self, i: usize) -> &Rc<RowView> {
        match self.get(i) {
            Some(r) => r,
            None => panic!("row {i} of {}", self.len()),
        }
    }
}

impl<'a> IntoIterator for &'a ViewRows {
    type Item = &'a Rc<RowView>;
    type IntoIter = Box<dyn DoubleEndedIterator<Item = &'a Rc<RowView>> + 'a>;
    fn into_iter(self) -> Self::IntoIter {
        Box::new(self.iter())
    }
}

impl PartialEq for ViewRows {
    fn eq(&self, o: &ViewRows) -> bool {
        self.len() == o.len() && self.iter().zip(o.iter()).all(|(a, b)| a == b)
    }
}

impl std::fmt::Debug for ViewRows {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl FromIterator<Rc<RowView>> for ViewRows {
    fn from_iter<I: IntoIterator<Item = Rc<RowView>>>(it: I) -> ViewRows {
        let mut rows = ViewRows::default();
        for r in it {
            rows.push(r);
        }
        rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::msc::{RowBody, RowKey, RunView};

    fn row(i: usize) -> Rc<RowView> {
        Rc::new(RowView {
            key: RowKey::Row(i),
            y: i as f64,
            h: 1.0,
            matched: false,
            body: RowBody::Run(RunView {
                first: i,
                rows: 2,
                expanded: false,
                text: String::new(),
                time: String::new(),
                time_at: (0.0, 0.0),
                band: (0.0, 0.0),
                text_at: (0.0, 0.0),
            }),
        })
    }

    /// Pushed, cut back, pushed again, copied: the rows read as a `Vec`
    /// treated the same way, and a copy shares the full chunks.
    #[test]
    fn reads_as_a_vec_cut_back_and_grown() {
        let mut rows = ViewRows::default();
        let mut model: Vec<Rc<RowView>> = Vec::new();
        for (grow, cut) in [(700, 600), (10, 255), (300, 256), (1000, 0), (513, 512)] {
            for _ in 0..grow {
                let r = row(model.len());
                rows.push(r.clone());
                model.push(r);
            }
            let copy = rows.clone();
            assert!(
                copy.full
                    .iter()
                    .zip(&rows.full)
                    .all(|(a, b)| Rc::ptr_eq(a, b))
            );
            rows.truncate(cut);
            model.truncate(cut);
            assert_eq!(rows.len(), model.len());
            assert!(rows.iter().eq(model.iter()));
            assert!((0..model.len()).all(|i| rows[i] == model[i]));
            assert_eq!(rows.get(model.len()), None);
            assert_eq!(rows.last(), model.last());
            for y in [-1.0, 0.0, 255.5, 256.0, 511.0, 5000.0] {
                let want = model.partition_point(|r| r.y < y);
                assert_eq!(
                    rows.partition_point(|r| r.y < y),
                    want,
                    "{y} ({grow}, {cut})"
                );
            }
            // The copy is the rows before the cut.
            assert!(copy.len() >= rows.len());
        }
    }
}
