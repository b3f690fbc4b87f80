//! Fixed-size records stored in table entries, and the building blocks they are made of.
//!
//! A record is a small `Copy` struct with a fixed little-endian layout. Encoding and decoding never
//! allocate and never panic: a short buffer decodes as zeros and a short output is left partly
//! unwritten (the table always hands over exactly [`Record::SIZE`] bytes). Values that cannot be
//! right (non-finite floats, negative variance) decode as a fresh state, so a damaged entry costs
//! its history, never the request.

use crate::hash::fmix64;

/// A fixed-size value kept per entry of a [`Table`](super::Table).
pub trait Record: Copy + Default {
    /// Record-type tag written in each bucket header; unique per record type. Change it (or the
    /// size) when the layout changes, so buckets written by an older build read as empty.
    const TAG: u8;
    /// Encoded size in bytes.
    const SIZE: usize;
    /// Writes the record into `out` (`out.len() == SIZE`).
    fn encode(&self, out: &mut [u8]);
    /// Reads a record from `b` (`b.len() == SIZE`).
    fn decode(b: &[u8]) -> Self;
    /// Whether a full bucket should evict other entries before this one (e.g. an active block),
    /// so that a flood of new identities cannot push it out. Default: no.
    fn eviction_protected(&self, _now_ms: u64) -> bool {
        false
    }
}

/// Sequential little-endian writer over a byte slice; writes past the end are dropped.
#[derive(Debug)]
pub struct FieldWriter<'a> {
    out: &'a mut [u8],
    pos: usize,
}

impl<'a> FieldWriter<'a> {
    /// A writer starting at the beginning of `out`.
    pub fn new(out: &'a mut [u8]) -> Self {
        FieldWriter { out, pos: 0 }
    }

    /// Writes raw bytes.
    pub fn bytes(&mut self, b: &[u8]) -> &mut Self {
        let end = self.pos.saturating_add(b.len());
        if let Some(dst) = self.out.get_mut(self.pos..end) {
            dst.copy_from_slice(b);
        }
        self.pos = end;
        self
    }

    /// Writes a `u8`.
    pub fn u8(&mut self, v: u8) -> &mut Self {
        self.bytes(&[v])
    }

    /// Writes a `u32`, little-endian.
    pub fn u32(&mut self, v: u32) -> &mut Self {
        self.bytes(&v.to_le_bytes())
    }

    /// Writes a `u64`, little-endian.
    pub fn u64(&mut self, v: u64) -> &mut Self {
        self.bytes(&v.to_le_bytes())
    }

    /// Writes an `f64` as its little-endian bit pattern.
    pub fn f64(&mut self, v: f64) -> &mut Self {
        self.u64(v.to_bits())
    }

    /// Writes a nested record through its own encoder.
    pub fn record<R: Record>(&mut self, v: &R) -> &mut Self {
        let end = self.pos.saturating_add(R::SIZE);
        if let Some(dst) = self.out.get_mut(self.pos..end) {
            v.encode(dst);
        }
        self.pos = end;
        self
    }
}

/// Sequential little-endian reader over a byte slice; reads past the end yield zeros.
#[derive(Debug)]
pub struct FieldReader<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> FieldReader<'a> {
    /// A reader starting at the beginning of `b`.
    pub fn new(b: &'a [u8]) -> Self {
        FieldReader { b, pos: 0 }
    }

    /// Reads `N` raw bytes (zeros past the end).
    pub fn array<const N: usize>(&mut self) -> [u8; N] {
        let mut a = [0u8; N];
        let end = self.pos.saturating_add(N);
        if let Some(src) = self.b.get(self.pos..end) {
            a.copy_from_slice(src);
        }
        self.pos = end;
        a
    }

    /// Reads a `u8`.
    pub fn u8(&mut self) -> u8 {
        self.array::<1>()[0]
    }

    /// Reads a little-endian `u32`.
    pub fn u32(&mut self) -> u32 {
        u32::from_le_bytes(self.array())
    }

    /// Reads a little-endian `u64`.
    pub fn u64(&mut self) -> u64 {
        u64::from_le_bytes(self.array())
    }

    /// Reads an `f64` bit pattern.
    pub fn f64(&mut self) -> f64 {
        f64::from_bits(self.u64())
    }

    /// Reads a nested record through its own decoder.
    pub fn record<R: Record>(&mut self) -> R {
        let end = self.pos.saturating_add(R::SIZE);
        let v = self.b.get(self.pos..end).map(R::decode).unwrap_or_default();
        self.pos = end;
        v
    }
}

// ---------------------------------------------------------------------------------------------

/// Approximate count of events in the last `window_ms`, from the counts of the current and the
/// previous aligned sub-window (the previous one weighted by how much of it is still inside the
/// sliding window). 16 bytes.
///
/// Sub-windows are aligned to multiples of `window_ms` since the epoch, so every worker agrees on
/// their boundaries. The window length is passed on each call rather than stored; a record
/// written with another length is re-aligned on the next `add`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WindowCounter {
    /// Start of the current sub-window (ms since the epoch).
    pub start_ms: u64,
    /// Events in the current sub-window.
    pub current: u32,
    /// Events in the previous sub-window.
    pub previous: u32,
}

impl WindowCounter {
    /// Counts `n` events at `now_ms`.
    pub fn add(&mut self, now_ms: u64, window_ms: u64, n: u32) {
        *self = self.at(now_ms, window_ms);
        self.current = self.current.saturating_add(n);
    }

    /// Estimated number of events in the `window_ms` before `now_ms`.
    pub fn rate(&self, now_ms: u64, window_ms: u64) -> f64 {
        let w = window_ms.max(1);
        let v = self.at(now_ms, w);
        // Fraction of the current sub-window already elapsed; the previous one counts for the rest.
        let elapsed = now_ms.saturating_sub(v.start_ms).min(w) as f64 / w as f64;
        f64::from(v.previous) * (1.0 - elapsed) + f64::from(v.current)
    }

    /// The counter as seen at `now_ms`: rolled forward over elapsed sub-windows.
    fn at(&self, now_ms: u64, window_ms: u64) -> WindowCounter {
        let w = window_ms.max(1);
        let start = now_ms - now_ms % w;
        let fresh = WindowCounter {
            start_ms: start,
            current: 0,
            previous: 0,
        };
        if start == self.start_ms {
            *self
        } else if start > self.start_ms {
            if start - self.start_ms == w {
                WindowCounter {
                    start_ms: start,
                    current: 0,
                    previous: self.current,
                }
            } else {
                // A gap of two windows or more (or a window length that changed): nothing recent.
                fresh
            }
        } else if self.start_ms - start <= w {
            // The clock stepped back by less than a window (another worker's clock, NTP): keep
            // counting into the current sub-window rather than losing it.
            *self
        } else {
            // The clock jumped far back: the stored window would never roll again; start over.
            fresh
        }
    }
}

impl Record for WindowCounter {
    const TAG: u8 = 0x81;
    const SIZE: usize = 16;

    fn encode(&self, out: &mut [u8]) {
        FieldWriter::new(out)
            .u64(self.start_ms)
            .u32(self.current)
            .u32(self.previous);
    }

    fn decode(b: &[u8]) -> Self {
        let mut r = FieldReader::new(b);
        WindowCounter {
            start_ms: r.u64(),
            current: r.u32(),
            previous: r.u32(),
        }
    }
}

/// Exponentially weighted mean and variance of a signal, with the number of samples seen so that
/// callers wait for a warm-up before trusting it. 20 bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Ewma {
    /// Weighted mean.
    pub mean: f64,
    /// Weighted variance (never negative).
    pub variance: f64,
    /// Samples seen (saturating).
    pub n: u32,
}

impl Ewma {
    /// Smallest standard deviation a z-score divides by, absolute.
    pub const MIN_STD_ABS: f64 = 1e-3;
    /// Smallest standard deviation a z-score divides by, relative to the mean: a perfectly steady
    /// baseline would otherwise make any small change look like a huge deviation.
    pub const MIN_STD_REL: f64 = 0.05;

    /// Adds a sample with smoothing factor `alpha` (clamped to (0, 1]). While fewer than `1/alpha`
    /// samples were seen the weight is `1/n`, so the warm-up mean is the plain average. Returns
    /// false (and changes nothing) for a non-finite sample.
    pub fn update(&mut self, x: f64, alpha: f64) -> bool {
        if !x.is_finite() {
            return false;
        }
        let alpha = if alpha.is_finite() {
            alpha.clamp(f64::MIN_POSITIVE, 1.0)
        } else {
            1.0
        };
        self.n = self.n.saturating_add(1);
        let a = alpha.max(1.0 / f64::from(self.n));
        let diff = x - self.mean;
        let incr = a * diff;
        self.mean += incr;
        self.variance = ((1.0 - a) * (self.variance + diff * incr)).max(0.0);
        if !self.mean.is_finite() || !self.variance.is_finite() {
            *self = Ewma::default();
        }
        true
    }

    /// Standard deviation (without the floor).
    pub fn std_dev(&self) -> f64 {
        self.variance.sqrt()
    }

    /// How many floored standard deviations `x` lies from the mean; `None` until `min_samples`
    /// samples were seen.
    pub fn zscore(&self, x: f64, min_samples: u32) -> Option<f64> {
        if self.n < min_samples.max(1) || !x.is_finite() {
            return None;
        }
        let floor = Self::MIN_STD_ABS.max(Self::MIN_STD_REL * self.mean.abs());
        Some((x - self.mean) / self.std_dev().max(floor))
    }
}

impl Record for Ewma {
    const TAG: u8 = 0x82;
    const SIZE: usize = 20;

    fn encode(&self, out: &mut [u8]) {
        FieldWriter::new(out)
            .f64(self.mean)
            .f64(self.variance)
            .u32(self.n);
    }

    fn decode(b: &[u8]) -> Self {
        let mut r = FieldReader::new(b);
        let e = Ewma {
            mean: r.f64(),
            variance: r.f64(),
            n: r.u32(),
        };
        if e.mean.is_finite() && e.variance.is_finite() && e.variance >= 0.0 {
            e
        } else {
            Ewma::default()
        }
    }
}

/// Linear-counting sketch of distinct values: a 256-bit bitmap. 32 bytes; accurate to a few per
/// cent up to ~200 distinct values, then saturating at ~1,420.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DistinctSketch {
    /// The bitmap.
    pub bits: [u8; 32],
}

impl DistinctSketch {
    const M: f64 = 256.0;

    /// Adds a value given by its 64-bit hash; returns true if it set a new bit.
    pub fn insert(&mut self, hash64: u64) -> bool {
        // Re-mixed so that weak caller hashes (small integers) still spread over the bitmap.
        let bit = (fmix64(hash64) >> 56) as usize;
        let (byte, mask) = (bit / 8, 1u8 << (bit % 8));
        match self.bits.get_mut(byte) {
            Some(b) if *b & mask == 0 => {
                *b |= mask;
                true
            }
            _ => false,
        }
    }

    /// Whether the bit of `hash64` is set: the value (or one sharing its bit) was inserted.
    pub fn contains(&self, hash64: u64) -> bool {
        let bit = (fmix64(hash64) >> 56) as usize;
        self.bits
            .get(bit / 8)
            .is_some_and(|b| b & (1u8 << (bit % 8)) != 0)
    }

    /// Estimated number of distinct values inserted: −m·ln(V/m), V = unset bits; with every bit
    /// set, the value for V = 1.
    pub fn estimate(&self) -> f64 {
        let set: u32 = self.bits.iter().map(|b| b.count_ones()).sum();
        let unset = (Self::M - f64::from(set)).max(1.0);
        -Self::M * (unset / Self::M).ln()
    }

    /// Forgets every value.
    pub fn clear(&mut self) {
        self.bits = [0; 32];
    }
}

impl Record for DistinctSketch {
    const TAG: u8 = 0x83;
    const SIZE: usize = 32;

    fn encode(&self, out: &mut [u8]) {
        FieldWriter::new(out).bytes(&self.bits);
    }

    fn decode(b: &[u8]) -> Self {
        DistinctSketch {
            bits: FieldReader::new(b).array(),
        }
    }
}

/// A block-list entry: blocked until `until_ms`, why, and at which escalation level. 10 bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BlockUntil {
    /// End of the block (ms since the epoch); 0 = never blocked.
    pub until_ms: u64,
    /// Reason code, defined by the behaviour layer.
    pub reason: u8,
    /// Escalation level, defined by the behaviour layer.
    pub level: u8,
}

impl BlockUntil {
    /// Whether the block still applies at `now_ms`.
    pub fn is_active(&self, now_ms: u64) -> bool {
        now_ms < self.until_ms
    }

    /// Milliseconds left at `now_ms` (0 when inactive).
    pub fn remaining_ms(&self, now_ms: u64) -> u64 {
        self.until_ms.saturating_sub(now_ms)
    }

    /// Imposes a block; never shortens an active one nor lowers its level, so two workers blocking
    /// the same client at once both get at least what they asked for.
    pub fn impose(&mut self, now_ms: u64, until_ms: u64, reason: u8, level: u8) {
        if !self.is_active(now_ms) {
            *self = BlockUntil {
                until_ms,
                reason,
                level,
            };
            return;
        }
        if until_ms > self.until_ms {
            self.until_ms = until_ms;
            self.reason = reason;
        }
        self.level = self.level.max(level);
    }

    /// Lifts the block, keeping the level so that a repeat offender can be escalated.
    pub fn lift(&mut self) {
        self.until_ms = 0;
    }
}

impl Record for BlockUntil {
    const TAG: u8 = 0x84;
    const SIZE: usize = 10;

    fn encode(&self, out: &mut [u8]) {
        FieldWriter::new(out)
            .u64(self.until_ms)
            .u8(self.reason)
            .u8(self.level);
    }

    fn decode(b: &[u8]) -> Self {
        let mut r = FieldReader::new(b);
        BlockUntil {
            until_ms: r.u64(),
            reason: r.u8(),
            level: r.u8(),
        }
    }
}

// ---------------------------------------------------------------------------------------------

/// Per-client (IP or principal) state: request, auth-failure and 404 windows, a rate baseline and
/// the block-list entry. 78 bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ClientRecord {
    /// Requests.
    pub requests: WindowCounter,
    /// 401/403 answers (credential stuffing).
    pub auth_failures: WindowCounter,
    /// 404 answers (scanning).
    pub not_found: WindowCounter,
    /// Baseline of requests per window.
    pub rate_baseline: Ewma,
    /// Block-list entry.
    pub block: BlockUntil,
}

impl Record for ClientRecord {
    const TAG: u8 = 1;
    const SIZE: usize = 3 * WindowCounter::SIZE + Ewma::SIZE + BlockUntil::SIZE;

    fn eviction_protected(&self, now_ms: u64) -> bool {
        self.block.is_active(now_ms)
    }

    fn encode(&self, out: &mut [u8]) {
        FieldWriter::new(out)
            .record(&self.requests)
            .record(&self.auth_failures)
            .record(&self.not_found)
            .record(&self.rate_baseline)
            .record(&self.block);
    }

    fn decode(b: &[u8]) -> Self {
        let mut r = FieldReader::new(b);
        ClientRecord {
            requests: r.record(),
            auth_failures: r.record(),
            not_found: r.record(),
            rate_baseline: r.record(),
            block: r.record(),
        }
    }
}

/// Per (principal, route template) state for BOLA: distinct object ids touched in the current
/// window and a baseline of that count per window. 60 bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PrincipalRouteRecord {
    /// Distinct object ids in the current window.
    pub objects: DistinctSketch,
    /// Start of the current window (ms since the epoch).
    pub window_start_ms: u64,
    /// Baseline of distinct objects per window.
    pub baseline: Ewma,
}

impl PrincipalRouteRecord {
    /// Starts a new window if `window_ms` has passed since the current one started (or the clock
    /// went back past it), returning the finished window's distinct estimate so the caller can
    /// feed it to the baseline. A fresh record starts its first window and returns `None`.
    pub fn roll_window(&mut self, now_ms: u64, window_ms: u64) -> Option<f64> {
        if self.window_start_ms == 0 {
            self.window_start_ms = now_ms;
            return None;
        }
        let elapsed = now_ms.wrapping_sub(self.window_start_ms);
        if now_ms >= self.window_start_ms && elapsed < window_ms.max(1) {
            return None;
        }
        let finished = self.objects.estimate();
        self.objects.clear();
        self.window_start_ms = now_ms;
        Some(finished)
    }
}

impl Record for PrincipalRouteRecord {
    const TAG: u8 = 2;
    const SIZE: usize = DistinctSketch::SIZE + 8 + Ewma::SIZE;

    fn encode(&self, out: &mut [u8]) {
        FieldWriter::new(out)
            .record(&self.objects)
            .u64(self.window_start_ms)
            .record(&self.baseline);
    }

    fn decode(b: &[u8]) -> Self {
        let mut r = FieldReader::new(b);
        PrincipalRouteRecord {
            objects: r.record(),
            window_start_ms: r.u64(),
            baseline: r.record(),
        }
    }
}

// Entries stay small so that a bucket of 8 fits in about a kilobyte.
const _: () = assert!(ClientRecord::SIZE <= 96 && PrincipalRouteRecord::SIZE <= 96);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::hash64;

    fn roundtrip<R: Record + PartialEq + std::fmt::Debug>(v: R) {
        let mut buf = vec![0u8; R::SIZE];
        v.encode(&mut buf);
        assert_eq!(R::decode(&buf), v);
    }

    #[test]
    fn record_sizes_are_pinned() {
        assert_eq!(WindowCounter::SIZE, 16);
        assert_eq!(Ewma::SIZE, 20);
        assert_eq!(DistinctSketch::SIZE, 32);
        assert_eq!(BlockUntil::SIZE, 10);
        assert_eq!(ClientRecord::SIZE, 78);
        assert_eq!(PrincipalRouteRecord::SIZE, 60);
    }

    #[test]
    fn records_roundtrip_through_their_encoding() {
        roundtrip(WindowCounter {
            start_ms: 1_700_000_000_000,
            current: 7,
            previous: u32::MAX,
        });
        roundtrip(Ewma {
            mean: 12.5,
            variance: 3.25,
            n: 9,
        });
        let mut s = DistinctSketch::default();
        (0..50u64).for_each(|i| {
            s.insert(i);
        });
        roundtrip(s);
        roundtrip(BlockUntil {
            until_ms: 42,
            reason: 3,
            level: 2,
        });
        let mut c = ClientRecord::default();
        c.requests.add(10_000, 1_000, 5);
        c.auth_failures.add(10_000, 60_000, 2);
        c.not_found.add(9_000, 60_000, 1);
        c.rate_baseline.update(4.0, 0.1);
        c.block.impose(0, 99, 1, 1);
        roundtrip(c);
        roundtrip(PrincipalRouteRecord {
            objects: s,
            window_start_ms: 5,
            baseline: c.rate_baseline,
        });
    }

    #[test]
    fn encoding_is_little_endian_and_fills_exactly_size_bytes() {
        let mut buf = [0xeeu8; 17];
        WindowCounter {
            start_ms: 0x0102,
            current: 3,
            previous: 4,
        }
        .encode(&mut buf[..16]);
        assert_eq!(&buf[..4], &[0x02, 0x01, 0, 0]);
        assert_eq!(buf[8], 3);
        assert_eq!(buf[12], 4);
        assert_eq!(buf[16], 0xee);
    }

    #[test]
    fn short_buffers_neither_panic_nor_overrun() {
        assert_eq!(ClientRecord::decode(&[1, 2, 3]), ClientRecord::default());
        assert_eq!(
            PrincipalRouteRecord::decode(&[]),
            PrincipalRouteRecord::default()
        );
        let mut short = [0u8; 5];
        ClientRecord::default().encode(&mut short);
        PrincipalRouteRecord::default().encode(&mut []);
    }

    #[test]
    fn corrupt_ewma_decodes_as_fresh_baseline() {
        let mut buf = [0u8; 20];
        Ewma {
            mean: f64::NAN,
            variance: 1.0,
            n: 3,
        }
        .encode(&mut buf);
        assert_eq!(Ewma::decode(&buf), Ewma::default());
        Ewma {
            mean: 1.0,
            variance: -1.0,
            n: 3,
        }
        .encode(&mut buf);
        assert_eq!(Ewma::decode(&buf), Ewma::default());
    }

    #[test]
    fn window_counter_counts_within_one_window() {
        let mut w = WindowCounter::default();
        for t in [60_000, 60_500, 119_999] {
            w.add(t, 60_000, 1);
        }
        assert_eq!((w.current, w.previous, w.start_ms), (3, 0, 60_000));
        assert_eq!(w.rate(119_999, 60_000), 3.0);
    }

    #[test]
    fn window_counter_weights_previous_window_by_overlap() {
        let mut w = WindowCounter::default();
        w.add(1_000, 1_000, 10);
        // Next window, a quarter in: 3/4 of the previous window is still inside.
        assert_eq!(w.rate(2_250, 1_000), 7.5);
        w.add(2_250, 1_000, 2);
        assert_eq!((w.current, w.previous), (2, 10));
        assert_eq!(w.rate(2_500, 1_000), 7.0);
        // Two windows later the old counts have left the window.
        assert_eq!(w.rate(3_999, 1_000), 2.0 * (1.0 - 0.999));
        assert_eq!(w.rate(4_000, 1_000), 0.0);
    }

    #[test]
    fn window_counter_forgets_everything_after_a_long_gap() {
        let mut w = WindowCounter::default();
        w.add(1_000, 1_000, 10);
        w.add(1_000_000, 1_000, 1);
        assert_eq!((w.current, w.previous, w.start_ms), (1, 0, 1_000_000));
    }

    #[test]
    fn window_counter_survives_time_going_backwards() {
        let mut w = WindowCounter::default();
        w.add(10_500, 1_000, 4);
        // A small step back counts into the current window.
        w.add(9_800, 1_000, 1);
        assert_eq!((w.current, w.start_ms), (5, 10_000));
        assert_eq!(w.rate(9_800, 1_000), 5.0);
        // A jump far back restarts the window instead of freezing it.
        w.add(1_500, 1_000, 1);
        assert_eq!((w.current, w.previous, w.start_ms), (1, 0, 1_000));
    }

    #[test]
    fn window_counter_saturates_and_tolerates_zero_window() {
        let mut w = WindowCounter::default();
        w.add(5, 0, u32::MAX);
        w.add(5, 0, 10);
        assert_eq!(w.current, u32::MAX);
        assert!(w.rate(5, 0).is_finite());
    }

    #[test]
    fn ewma_warm_up_mean_is_plain_average() {
        let mut e = Ewma::default();
        for x in [2.0, 4.0, 6.0] {
            assert!(e.update(x, 0.01));
        }
        assert!((e.mean - 4.0).abs() < 1e-12);
        assert_eq!(e.n, 3);
        assert!(e.variance > 0.0);
    }

    #[test]
    fn ewma_tracks_a_shift_at_rate_alpha() {
        let mut e = Ewma::default();
        for _ in 0..100 {
            e.update(10.0, 0.1);
        }
        assert!((e.mean - 10.0).abs() < 1e-9);
        e.update(20.0, 0.1);
        assert!((e.mean - 11.0).abs() < 1e-9);
    }

    #[test]
    fn ewma_zscore_waits_for_warm_up() {
        let mut e = Ewma::default();
        for x in [9.0, 11.0, 10.0, 9.0, 11.0] {
            e.update(x, 0.1);
        }
        assert_eq!(e.zscore(30.0, 6), None);
        let z = e.zscore(30.0, 5).unwrap();
        assert!(z > 10.0, "{z}");
        assert!(e.zscore(10.0, 5).unwrap().abs() < 0.5);
    }

    #[test]
    fn ewma_zscore_of_a_constant_baseline_is_finite() {
        let mut e = Ewma::default();
        for _ in 0..50 {
            e.update(100.0, 0.05);
        }
        assert_eq!(e.variance, 0.0);
        // Floored at 5 % of the mean: 110 is two floored deviations away, not infinity.
        assert!((e.zscore(110.0, 10).unwrap() - 2.0).abs() < 1e-9);
        let mut zero = Ewma::default();
        zero.update(0.0, 0.5);
        assert_eq!(zero.zscore(0.0, 1), Some(0.0));
        assert!(zero.zscore(1.0, 1).unwrap().is_finite());
    }

    #[test]
    fn ewma_ignores_non_finite_input_and_bad_alpha() {
        let mut e = Ewma::default();
        assert!(!e.update(f64::NAN, 0.1));
        assert!(!e.update(f64::INFINITY, 0.1));
        assert_eq!(e, Ewma::default());
        assert!(e.update(1.0, f64::NAN));
        assert!(e.update(3.0, -5.0));
        assert!(e.mean.is_finite() && e.variance.is_finite());
        assert_eq!(e.zscore(f64::NAN, 1), None);
    }

    #[test]
    fn ewma_sample_count_saturates() {
        let mut e = Ewma {
            mean: 1.0,
            variance: 0.0,
            n: u32::MAX,
        };
        e.update(1.0, 0.1);
        assert_eq!(e.n, u32::MAX);
    }

    #[test]
    fn ewma_survives_huge_values() {
        let mut e = Ewma::default();
        e.update(f64::MAX, 0.5);
        e.update(-f64::MAX, 0.5);
        assert!(e.mean.is_finite() && e.variance.is_finite() && e.variance >= 0.0);
    }

    fn object_hash(i: u32) -> u64 {
        hash64(0x5eed, format!("/orders/{i}").as_bytes())
    }

    #[test]
    fn distinct_sketch_estimates_within_15_percent_up_to_200() {
        let mut s = DistinctSketch::default();
        for n in 1..=200u32 {
            s.insert(object_hash(n));
            let est = s.estimate();
            let tolerance = (0.15 * f64::from(n)).max(1.0);
            assert!(
                (est - f64::from(n)).abs() <= tolerance,
                "n={n} estimate={est}"
            );
        }
    }

    #[test]
    fn distinct_sketch_contains_what_was_inserted() {
        let mut s = DistinctSketch::default();
        assert!(!s.contains(object_hash(7)));
        assert!(s.insert(object_hash(7)));
        assert!(s.contains(object_hash(7)));
        assert!(!s.insert(object_hash(7)));
    }

    #[test]
    fn distinct_sketch_ignores_repeated_ids() {
        let mut s = DistinctSketch::default();
        (1..=100).for_each(|i| {
            s.insert(object_hash(i));
        });
        let before = s.estimate();
        for _ in 0..5 {
            for i in 1..=100 {
                assert!(!s.insert(object_hash(i)));
            }
        }
        assert_eq!(s.estimate(), before);
    }

    #[test]
    fn distinct_sketch_spreads_small_integer_hashes() {
        let mut s = DistinctSketch::default();
        (0..64u64).for_each(|i| {
            s.insert(i);
        });
        assert!(
            (s.estimate() - 64.0).abs() <= 0.15 * 64.0,
            "{}",
            s.estimate()
        );
    }

    #[test]
    fn distinct_sketch_saturates_when_full_and_clears() {
        let mut s = DistinctSketch { bits: [0xff; 32] };
        let full = s.estimate();
        assert!(full.is_finite() && full > 1_400.0, "{full}");
        s.clear();
        assert_eq!(s.estimate(), 0.0);
    }

    #[test]
    fn block_is_active_until_expiry() {
        let b = BlockUntil {
            until_ms: 1_000,
            reason: 2,
            level: 1,
        };
        assert!(b.is_active(999));
        assert!(!b.is_active(1_000));
        assert_eq!(b.remaining_ms(400), 600);
        assert_eq!(b.remaining_ms(5_000), 0);
        assert!(!BlockUntil::default().is_active(0));
    }

    #[test]
    fn imposing_a_block_never_shortens_an_active_one() {
        let mut b = BlockUntil::default();
        b.impose(0, 10_000, 1, 2);
        b.impose(100, 5_000, 7, 1);
        assert_eq!(
            b,
            BlockUntil {
                until_ms: 10_000,
                reason: 1,
                level: 2
            }
        );
        b.impose(200, 20_000, 3, 1);
        assert_eq!(
            b,
            BlockUntil {
                until_ms: 20_000,
                reason: 3,
                level: 2
            }
        );
        // Expired: the new block replaces it entirely.
        b.impose(30_000, 31_000, 4, 1);
        assert_eq!(
            b,
            BlockUntil {
                until_ms: 31_000,
                reason: 4,
                level: 1
            }
        );
        b.lift();
        assert!(!b.is_active(30_001));
        assert_eq!(b.level, 1);
    }

    #[test]
    fn principal_route_window_rolls_and_reports_finished_count() {
        let mut r = PrincipalRouteRecord::default();
        assert_eq!(r.roll_window(1_000, 60_000), None);
        assert_eq!(r.window_start_ms, 1_000);
        (0..10).for_each(|i| {
            r.objects.insert(object_hash(i));
        });
        assert_eq!(r.roll_window(30_000, 60_000), None);
        let finished = r.roll_window(61_000, 60_000).unwrap();
        assert!((finished - 10.0).abs() < 1.5, "{finished}");
        assert_eq!(r.objects.estimate(), 0.0);
        assert_eq!(r.window_start_ms, 61_000);
        // Clock far behind the window start: start over rather than freeze.
        assert!(r.roll_window(10, 60_000).is_some());
    }
}
