//! Buffers a reading thread keeps from one pairs file to the next. A merge reads a
//! thousand small files; a read buffer and a batch allocated per file were freed and
//! returned to the system after each (the allocator returns freed pages at once), so
//! every file faulted them in again: a third of a merge's CPU time went to the kernel.

use std::cell::RefCell;
use std::io::{self, BufRead, Read};

use crate::aggregate::store::Batch;

/// One thread's reusable buffers.
#[derive(Default)]
pub struct Scratch {
    pub buffer: Vec<u8>,
    pub batch: Batch,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::default();
}

/// Runs `f` with this thread's scratch, its read buffer `capacity` bytes long. Should `f`
/// come back here on the same thread (a rayon thread waiting inside `f` may take another
/// file's job), the inner call gets buffers of its own instead of finding these borrowed.
pub fn with_scratch<T>(capacity: usize, f: impl FnOnce(&mut Scratch) -> T) -> T {
    let lent = |scratch: &mut Scratch| {
        if scratch.buffer.len() != capacity {
            scratch.buffer = vec![0; capacity];
        }
        f(scratch)
    };
    SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut scratch) => lent(&mut scratch),
        Err(_) => lent(&mut Scratch::default()),
    })
}

/// A [`BufRead`] over `inner` whose buffer is lent to it.
pub struct LentBuf<'b, R> {
    inner: R,
    buf: &'b mut [u8],
    pos: usize,
    filled: usize,
}

impl<'b, R: Read> LentBuf<'b, R> {
    pub fn new(inner: R, buf: &'b mut [u8]) -> Self {
        LentBuf {
            inner,
            buf,
            pos: 0,
            filled: 0,
        }
    }
}

impl<R: Read> Read for LentBuf<'_, R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(out.len());
        out[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: Read> BufRead for LentBuf<'_, R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.pos >= self.filled {
            self.filled = self.inner.read(self.buf)?;
            self.pos = 0;
        }
        Ok(&self.buf[self.pos..self.filled])
    }

    fn consume(&mut self, n: usize) {
        self.pos = (self.pos + n).min(self.filled);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lent_buffers_read_everything_in_order_and_are_kept() {
        let text: Vec<u8> = (0..10_000u32).flat_map(|i| i.to_le_bytes()).collect();
        for capacity in [1, 7, 4096] {
            let got = with_scratch(capacity, |s| {
                let mut lines = Vec::new();
                LentBuf::new(text.as_slice(), &mut s.buffer)
                    .read_to_end(&mut lines)
                    .unwrap();
                lines
            });
            assert_eq!(got, text, "buffer of {capacity}");
            // The next file on this thread finds the same buffer.
            let kept = with_scratch(capacity, |s| s.buffer.as_ptr());
            assert_eq!(kept, with_scratch(capacity, |s| s.buffer.as_ptr()));
        }
    }
}
