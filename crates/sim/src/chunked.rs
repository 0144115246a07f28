//! A growable list stored in fixed-size chunks: appending never moves what
//! is already stored. A `Vec` that doubles copies its contents into a new
//! block and, for a moment, holds both: for a trace of hundreds of
//! megabytes that is the peak of the run's memory (and in wasm, whose
//! memory never shrinks, for the rest of the page's life). Chunks cost one
//! more index computation per read.

/// Items per chunk: a power of two, so an index splits with a shift.
const SHIFT: u32 = 14;
const CHUNK: usize = 1 << SHIFT;

#[derive(Clone, Debug)]
pub(crate) struct Chunked<T> {
    chunks: Vec<Vec<T>>,
    len: usize,
}

impl<T> Default for Chunked<T> {
    fn default() -> Self {
        Chunked {
            chunks: Vec::new(),
            len: 0,
        }
    }
}

impl<T> Chunked<T> {
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub(crate) fn push(&mut self, item: T) {
        if self.len.is_multiple_of(CHUNK) {
            self.chunks.push(Vec::with_capacity(CHUNK));
        }
        let last = self.chunks.last_mut().expect("a chunk with room");
        last.push(item);
        self.len += 1;
    }

    pub(crate) fn get(&self, i: usize) -> Option<&T> {
        if i >= self.len {
            return None;
        }
        Some(&self.chunks[i >> SHIFT][i & (CHUNK - 1)])
    }

    pub(crate) fn last(&self) -> Option<&T> {
        self.len.checked_sub(1).and_then(|i| self.get(i))
    }

    /// Keeps the first `len` items (whole chunks past them are freed).
    pub(crate) fn truncate(&mut self, len: usize) {
        if len >= self.len {
            return;
        }
        let kept = len.div_ceil(CHUNK);
        self.chunks.truncate(kept);
        if let Some(last) = self.chunks.last_mut() {
            last.truncate(len - (kept - 1) * CHUNK);
        }
        self.len = len;
    }

    /// The items in order (reversible).
    pub(crate) fn iter(
        &self,
    ) -> impl DoubleEndedIterator<Item = &T> + ExactSizeIterator<Item = &T> + Clone {
        Iter {
            inner: self.chunks.iter().flatten(),
            left: self.len,
        }
    }
}

impl<T> std::ops::Index<usize> for Chunked<T> {
    type Output = T;
    fn index(&self, i: usize) -> &T {
        self.get(i).expect("index within the list")
    }
}

/// A flattened iterator that knows its length.
#[derive(Clone)]
struct Iter<I> {
    inner: I,
    left: usize,
}

impl<'a, T: 'a, I: Iterator<Item = &'a T>> Iterator for Iter<I> {
    type Item = &'a T;
    fn next(&mut self) -> Option<&'a T> {
        let x = self.inner.next()?;
        self.left -= 1;
        Some(x)
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl<'a, T: 'a, I: DoubleEndedIterator<Item = &'a T>> DoubleEndedIterator for Iter<I> {
    fn next_back(&mut self) -> Option<&'a T> {
        let x = self.inner.next_back()?;
        self.left -= 1;
        Some(x)
    }
}

impl<'a, T: 'a, I: Iterator<Item = &'a T>> ExactSizeIterator for Iter<I> {}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads, cuts and grows again across chunk boundaries, as a `Vec`
    /// does.
    #[test]
    fn behaves_as_a_vec_across_chunks() {
        let mut c = Chunked::default();
        let mut v = Vec::new();
        for n in [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 5] {
            c.truncate(0);
            v.clear();
            for i in 0..n {
                c.push(i);
                v.push(i);
            }
            assert_eq!(c.len(), v.len());
            assert_eq!(c.last(), v.last());
            assert!(c.iter().eq(v.iter()));
            assert!(c.iter().rev().eq(v.iter().rev()));
            assert_eq!(c.iter().len(), v.len());
            for cut in [n, n / 2, CHUNK, 1, 0] {
                c.truncate(cut);
                v.truncate(cut);
                assert!(c.iter().eq(v.iter()), "cut to {cut} of {n}");
                assert_eq!(c.get(cut), None);
                c.push(7);
                v.push(7);
                assert_eq!(c.len(), v.len());
                assert_eq!(c[c.len() - 1], 7);
                assert!(c.iter().eq(v.iter()));
            }
        }
    }
}
