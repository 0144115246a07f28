//! A growable list stored in fixed-size chunks: appending never moves what
//! is already stored. A `Vec` that doubles copies its contents into a new
//! block and, for a moment, holds both: for a trace of hundreds of
//! megabytes that is the peak of the run's memory (and in wasm, whose
//! memory never shrinks, for the rest of the page's life). Chunks cost one
//! more index computation per read.
//!
//! A full chunk never changes again, so it is shared: a clone of the list
//! copies a pointer per full chunk and the last, partly filled one. A jump
//! back in time keeps the run it cut off that way, beside the run cut back,
//! for a jump forward again (see `Trace`'s clone).

use std::sync::Arc;

/// Items per chunk: a power of two, so an index splits with a shift.
const SHIFT: u32 = 14;
const CHUNK: usize = 1 << SHIFT;

#[derive(Clone, Debug)]
pub(crate) struct Chunked<T> {
    /// The full chunks, `CHUNK` items each.
    full: Vec<Arc<Vec<T>>>,
    /// The items after them (fewer than `CHUNK`).
    tail: Vec<T>,
    len: usize,
}

impl<T> Default for Chunked<T> {
    fn default() -> Self {
        Chunked {
            full: Vec::new(),
            tail: Vec::new(),
            len: 0,
        }
    }
}

impl<T: Clone> Chunked<T> {
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub(crate) fn push(&mut self, item: T) {
        if self.tail.capacity() == 0 {
            self.tail.reserve_exact(CHUNK);
        }
        self.tail.push(item);
        self.len += 1;
        if self.tail.len() == CHUNK {
            // The filled block itself is shared, not copied: `Arc<[T]>`
            // from a `Vec` copies it into a new allocation, and the freed
            // blocks, a size off, were not reused (37 % more memory at the
            // 1,000-client hour's peak).
            let full = std::mem::take(&mut self.tail);
            self.full.push(Arc::new(full));
        }
    }

    pub(crate) fn get(&self, i: usize) -> Option<&T> {
        if i >= self.len {
            return None;
        }
        let (c, at) = (i >> SHIFT, i & (CHUNK - 1));
        Some(match self.full.get(c) {
            Some(chunk) => &chunk[at],
            None => &self.tail[at],
        })
    }

    pub(crate) fn last(&self) -> Option<&T> {
        self.len.checked_sub(1).and_then(|i| self.get(i))
    }

    /// Keeps the first `len` items (whole chunks past them are let go; the
    /// chunk the cut falls in is copied up to it, as a clone may share it).
    pub(crate) fn truncate(&mut self, len: usize) {
        if len >= self.len {
            return;
        }
        let (c, rest) = (len >> SHIFT, len & (CHUNK - 1));
        if let Some(chunk) = self.full.get(c) {
            let mut tail = Vec::with_capacity(CHUNK);
            tail.extend_from_slice(&chunk[..rest]);
            self.tail = tail;
            self.full.truncate(c);
        } else {
            self.tail.truncate(rest);
        }
        self.len = len;
    }

    /// The items in order (reversible).
    pub(crate) fn iter(
        &self,
    ) -> impl DoubleEndedIterator<Item = &T> + ExactSizeIterator<Item = &T> + Clone {
        let chunk: fn(&Arc<Vec<T>>) -> std::slice::Iter<'_, T> = |c| c.iter();
        Iter {
            inner: self.full.iter().flat_map(chunk).chain(self.tail.iter()),
            left: self.len,
        }
    }
}

impl<T: Clone> std::ops::Index<usize> for Chunked<T> {
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

    /// A chunk filled is kept where it was written, not copied.
    #[test]
    fn a_full_chunk_stays_where_it_was_filled() {
        let mut a = Chunked::default();
        a.push(0u64);
        let at = a.tail.as_ptr();
        for i in 1..CHUNK as u64 {
            a.push(i);
        }
        assert_eq!(a.full.len(), 1);
        assert_eq!(a.full[0].as_ptr(), at);
    }

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

    /// A clone shares the full chunks, and cutting or growing either one
    /// leaves the other as it was.
    #[test]
    fn a_clone_and_its_original_go_their_own_ways() {
        let mut a = Chunked::default();
        for i in 0..(2 * CHUNK + 100) {
            a.push(i);
        }
        let before: Vec<usize> = a.iter().copied().collect();
        let mut b = a.clone();
        for cut in [2 * CHUNK + 50, CHUNK + 3, CHUNK, 7] {
            b.truncate(cut);
            b.push(usize::MAX);
            assert!(a.iter().copied().eq(before.iter().copied()), "cut to {cut}");
            assert_eq!(b.len(), cut + 1);
            assert!(b.iter().take(cut).eq(before[..cut].iter()));
            assert_eq!(b[cut], usize::MAX);
        }
        // Grown past a chunk boundary, the original still reads the same.
        while b.len() < 3 * CHUNK {
            b.push(1);
        }
        a.truncate(CHUNK + 1);
        assert!(a.iter().eq(before[..=CHUNK].iter()));
        assert_eq!(b.iter().filter(|&&x| x == usize::MAX).count(), 1);
        assert_eq!(b[7], usize::MAX);
    }
}
