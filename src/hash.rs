//! Fixed-seed hashing.
//!
//! Every worker VM, every restart and the training pipeline must map the same bytes to the same
//! bucket, so nothing here may depend on a randomly seeded hasher.

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// 64-bit FNV-1a of `bytes` started from `seed`, finished with a murmur3-style avalanche so that
/// the low bits (used for bucket selection) depend on every input byte.
pub fn hash64(seed: u64, bytes: &[u8]) -> u64 {
    hash64_parts(seed, &[bytes])
}

/// [`hash64`] of the concatenation of `parts`, without building it.
pub fn hash64_parts(seed: u64, parts: &[&[u8]]) -> u64 {
    let mut h = FNV_OFFSET ^ seed;
    for &b in parts.iter().flat_map(|p| p.iter()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(FNV_PRIME);
    }
    fmix64(h)
}

/// Murmur3's 64-bit finaliser.
pub fn fmix64(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^= h >> 33;
    h
}

/// Lower-case hex of `bytes`.
pub fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_stable_across_runs_and_seeds_differ() {
        // Pinned values (checked against an independent FNV-1a + fmix64): a change here silently
        // invalidates every shipped model.
        assert_eq!(hash64(0, b"union select"), hash64(0, b"union select"));
        assert_ne!(hash64(0, b"abc"), hash64(1, b"abc"));
        assert_eq!(hash64(0, b""), fmix64(FNV_OFFSET));
        assert_eq!(hash64(3, b"union select"), 0xd4ec_36dc_5790_b43e);
        assert_eq!(
            hash64_parts(3, &[b"union", b" ", b"select"]),
            hash64(3, b"union select")
        );
    }

    #[test]
    fn hex_encodes_lowercase() {
        assert_eq!(to_hex(&[0x00, 0xab, 0xff]), "00abff");
    }
}
