//! The proxy-wasm header-map wire format, decoded defensively.
//!
//! Layout: `u32 count`, then `count` × (`u32 key_len`, `u32 value_len`), then each key and value
//! followed by a NUL byte. All integers little-endian. The SDK's own decoder unwraps UTF-8 and
//! slices unchecked; a host or peer sending odd bytes must not panic the VM, so this one is
//! checked and lossy.

/// Serialises `pairs` for the host.
pub fn encode_pairs(pairs: &[(&str, &[u8])]) -> Vec<u8> {
    let size = 4 + pairs
        .iter()
        .map(|(k, v)| 8 + k.len() + v.len() + 2)
        .sum::<usize>();
    let mut out = Vec::with_capacity(size);
    out.extend_from_slice(&(pairs.len() as u32).to_le_bytes());
    for (k, v) in pairs {
        out.extend_from_slice(&(k.len() as u32).to_le_bytes());
        out.extend_from_slice(&(v.len() as u32).to_le_bytes());
    }
    for (k, v) in pairs {
        out.extend_from_slice(k.as_bytes());
        out.push(0);
        out.extend_from_slice(v);
        out.push(0);
    }
    out
}

fn read_u32(bytes: &[u8], at: usize) -> Option<usize> {
    let b = bytes.get(at..at + 4)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
}

/// Parses a serialised header map; `None` if it is malformed. Names are decoded lossily.
pub fn decode_pairs(bytes: &[u8]) -> Option<Vec<(String, Vec<u8>)>> {
    if bytes.is_empty() {
        return Some(Vec::new());
    }
    let count = read_u32(bytes, 0)?;
    let mut pos = 4usize.checked_add(count.checked_mul(8)?)?;
    if pos > bytes.len() {
        return None;
    }
    let mut pairs = Vec::with_capacity(count);
    for i in 0..count {
        let key_len = read_u32(bytes, 4 + i * 8)?;
        let value_len = read_u32(bytes, 8 + i * 8)?;
        let key = bytes.get(pos..pos.checked_add(key_len)?)?;
        pos = pos.checked_add(key_len + 1)?;
        let value = bytes.get(pos..pos.checked_add(value_len)?)?;
        pos = pos.checked_add(value_len + 1)?;
        pairs.push((String::from_utf8_lossy(key).into_owned(), value.to_vec()));
    }
    Some(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_round_trip_including_invalid_utf8_values() {
        let pairs: Vec<(&str, &[u8])> = vec![(":path", b"/a?b"), ("x", &[0xff, 0xfe]), ("e", b"")];
        let decoded = decode_pairs(&encode_pairs(&pairs)).unwrap();
        assert_eq!(decoded.len(), 3);
        assert_eq!(decoded[1], ("x".to_string(), vec![0xff, 0xfe]));
        assert_eq!(decode_pairs(&[]).unwrap(), vec![]);
    }

    #[test]
    fn malformed_maps_are_rejected_not_panicking() {
        let good = encode_pairs(&[("k", b"v")]);
        for cut in 0..good.len() - 1 {
            assert!(
                decode_pairs(&good[..cut]).is_none() || cut == 0,
                "cut {cut}"
            );
        }
        assert!(decode_pairs(&[0xff, 0xff, 0xff, 0xff]).is_none());
        let mut lying = good.clone();
        lying[4] = 200; // key length beyond the buffer
        assert!(decode_pairs(&lying).is_none());
    }
}
