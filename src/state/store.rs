//! The host's shared key-value store, as a trait, and an in-memory implementation for tests and
//! the native CLI.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Mutex, MutexGuard};

/// Why a shared-store call failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreError {
    /// The CAS token given to `set` is no longer the key's: another worker wrote it in between.
    CasMismatch,
    /// The host answered with another non-OK status (proxy-wasm ABI numbering).
    Host {
        /// The status code.
        status: u32,
    },
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::CasMismatch => {
                write!(f, "shared data changed since it was read (CAS mismatch)")
            }
            StoreError::Host { status } => {
                write!(f, "shared data host call failed with status {status}")
            }
        }
    }
}

impl std::error::Error for StoreError {}

/// A key → (bytes, CAS token) store shared by every worker VM, with Envoy's semantics: no delete,
/// no TTL; `set` with cas 0 is unconditional, with a non-zero cas it fails with
/// [`StoreError::CasMismatch`] unless that is the key's current token; every successful `set`
/// gives the key a new non-zero token. Like Envoy, a `set` on a key that does not exist yet
/// succeeds whatever the cas (there is no atomic "create if absent").
pub trait SharedStore {
    /// The value of `key` and its CAS token; `None` when the key was never set.
    fn get(&self, key: &str) -> Result<Option<(Vec<u8>, u32)>, StoreError>;
    /// Writes `value` under `key` if `cas` is 0 or the key's current token.
    fn set(&self, key: &str, value: &[u8], cas: u32) -> Result<(), StoreError>;
    /// Marks `key` hot: one of its measures is near its limit, so a store that defers writes
    /// ([`super::WorkerStore`]) should read and write it through on every worker. A store that
    /// writes through anyway ignores it.
    fn mark_hot(&self, _key: &str) {}
    /// Share of a limit from which a bucket is worth marking hot; `None`: never.
    fn hot_fraction(&self) -> Option<f64> {
        None
    }
}

impl<T: SharedStore + ?Sized> SharedStore for &T {
    fn get(&self, key: &str) -> Result<Option<(Vec<u8>, u32)>, StoreError> {
        (**self).get(key)
    }

    fn set(&self, key: &str, value: &[u8], cas: u32) -> Result<(), StoreError> {
        (**self).set(key, value, cas)
    }

    fn mark_hot(&self, key: &str) {
        (**self).mark_hot(key);
    }

    fn hot_fraction(&self) -> Option<f64> {
        (**self).hot_fraction()
    }
}

impl<T: SharedStore + ?Sized> SharedStore for std::sync::Arc<T> {
    fn get(&self, key: &str) -> Result<Option<(Vec<u8>, u32)>, StoreError> {
        (**self).get(key)
    }

    fn set(&self, key: &str, value: &[u8], cas: u32) -> Result<(), StoreError> {
        (**self).set(key, value, cas)
    }

    fn mark_hot(&self, key: &str) {
        (**self).mark_hot(key);
    }

    fn hot_fraction(&self) -> Option<f64> {
        (**self).hot_fraction()
    }
}

/// Hook run after a `get` on the stored value, standing for another worker; returns true if it
/// wrote (which gives the key a new token, so the reader's token is stale).
type Interference = Box<dyn FnMut(&str, &mut Vec<u8>) -> bool + Send>;

#[derive(Default)]
struct Inner {
    map: HashMap<String, (Vec<u8>, u32)>,
    last_cas: u32,
    value_bytes: usize,
    max_value_bytes: usize,
    fail_next_sets: u32,
    interference: Option<Interference>,
}

impl Inner {
    fn next_cas(&mut self) -> u32 {
        self.last_cas = self.last_cas.wrapping_add(1).max(1);
        self.last_cas
    }
}

/// In-memory [`SharedStore`] with Envoy's semantics, usable from several threads, with hooks to
/// inject CAS conflicts deterministically.
#[derive(Default)]
pub struct MemStore {
    inner: Mutex<Inner>,
}

impl fmt::Debug for MemStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let g = self.lock();
        f.debug_struct("MemStore")
            .field("keys", &g.map.len())
            .field("value_bytes", &g.value_bytes)
            .finish_non_exhaustive()
    }
}

impl MemStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A test thread that panicked while holding the lock left consistent data behind.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Number of keys ever set.
    pub fn key_count(&self) -> usize {
        self.lock().map.len()
    }

    /// Sum of the current value sizes, in bytes.
    pub fn value_bytes(&self) -> usize {
        self.lock().value_bytes
    }

    /// Largest value sum ever held, in bytes.
    pub fn max_value_bytes(&self) -> usize {
        self.lock().max_value_bytes
    }

    /// The keys, sorted.
    pub fn keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = self.lock().map.keys().cloned().collect();
        keys.sort();
        keys
    }

    /// Test hook: the next `n` conditional sets (cas ≠ 0) of existing keys fail with
    /// `CasMismatch` and write nothing.
    pub fn fail_next_sets(&self, n: u32) {
        self.lock().fail_next_sets = n;
    }

    /// Test hook: after every `get` of an existing key, `f` may change the stored value as another
    /// worker would; when it returns true the key gets a new token. `f` must not call the store.
    pub fn interfere_after_get(&self, f: impl FnMut(&str, &mut Vec<u8>) -> bool + Send + 'static) {
        self.lock().interference = Some(Box::new(f));
    }

    /// Removes the [`interfere_after_get`](Self::interfere_after_get) hook.
    pub fn stop_interfering(&self) {
        self.lock().interference = None;
    }
}

impl SharedStore for MemStore {
    fn get(&self, key: &str) -> Result<Option<(Vec<u8>, u32)>, StoreError> {
        let mut g = self.lock();
        let Some((value, cas)) = g.map.get(key).cloned() else {
            return Ok(None);
        };
        let mut hook = g.interference.take();
        if let Some(f) = hook.as_mut() {
            let mut changed = value.clone();
            if f(key, &mut changed) {
                let new_cas = g.next_cas();
                g.value_bytes = g.value_bytes - value.len() + changed.len();
                g.max_value_bytes = g.max_value_bytes.max(g.value_bytes);
                g.map.insert(key.to_owned(), (changed, new_cas));
            }
        }
        g.interference = hook;
        Ok(Some((value, cas)))
    }

    fn set(&self, key: &str, value: &[u8], cas: u32) -> Result<(), StoreError> {
        let mut g = self.lock();
        let old_len = match g.map.get(key) {
            Some((old, current)) => {
                if cas != 0 && cas != *current {
                    return Err(StoreError::CasMismatch);
                }
                let old_len = old.len();
                if cas != 0 && g.fail_next_sets > 0 {
                    g.fail_next_sets -= 1;
                    return Err(StoreError::CasMismatch);
                }
                old_len
            }
            None => 0,
        };
        let new_cas = g.next_cas();
        g.value_bytes = g.value_bytes - old_len + value.len();
        g.max_value_bytes = g.max_value_bytes.max(g.value_bytes);
        g.map.insert(key.to_owned(), (value.to_vec(), new_cas));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn get_of_a_key_never_set_is_none() {
        assert_eq!(MemStore::new().get("k").unwrap(), None);
    }

    #[test]
    fn every_set_gives_a_new_nonzero_token() {
        let s = MemStore::new();
        s.set("k", b"a", 0).unwrap();
        let (v, c1) = s.get("k").unwrap().unwrap();
        assert_eq!((v.as_slice(), c1 != 0), (&b"a"[..], true));
        s.set("k", b"b", c1).unwrap();
        let (v, c2) = s.get("k").unwrap().unwrap();
        assert_eq!(v, b"b");
        assert_ne!(c1, c2);
    }

    #[test]
    fn stale_token_is_a_cas_mismatch_and_writes_nothing() {
        let s = MemStore::new();
        s.set("k", b"a", 0).unwrap();
        let (_, c) = s.get("k").unwrap().unwrap();
        s.set("k", b"other worker", 0).unwrap();
        assert_eq!(s.set("k", b"mine", c), Err(StoreError::CasMismatch));
        assert_eq!(s.get("k").unwrap().unwrap().0, b"other worker");
    }

    #[test]
    fn set_on_absent_key_succeeds_whatever_the_token_like_envoy() {
        let s = MemStore::new();
        s.set("k", b"a", 12345).unwrap();
        assert_eq!(s.key_count(), 1);
    }

    #[test]
    fn injected_failures_hit_only_conditional_sets() {
        let s = MemStore::new();
        s.set("k", b"a", 0).unwrap();
        s.fail_next_sets(2);
        let (_, c) = s.get("k").unwrap().unwrap();
        assert_eq!(s.set("k", b"b", c), Err(StoreError::CasMismatch));
        s.set("k", b"unconditional", 0).unwrap();
        let (_, c) = s.get("k").unwrap().unwrap();
        assert_eq!(s.set("k", b"b", c), Err(StoreError::CasMismatch));
        s.set("k", b"b", c).unwrap();
    }

    #[test]
    fn interference_makes_the_read_token_stale() {
        let s = MemStore::new();
        s.set("k", b"a", 0).unwrap();
        s.interfere_after_get(|_, v| {
            v.push(b'!');
            true
        });
        let (v, c) = s.get("k").unwrap().unwrap();
        assert_eq!(v, b"a");
        assert_eq!(s.set("k", b"b", c), Err(StoreError::CasMismatch));
        s.stop_interfering();
        let (v, c) = s.get("k").unwrap().unwrap();
        assert_eq!(v, b"a!");
        s.set("k", b"b", c).unwrap();
    }

    #[test]
    fn byte_accounting_follows_overwrites() {
        let s = MemStore::new();
        s.set("a", &[0; 10], 0).unwrap();
        s.set("b", &[0; 5], 0).unwrap();
        s.set("a", &[0; 3], 0).unwrap();
        assert_eq!((s.value_bytes(), s.max_value_bytes()), (8, 15));
        assert_eq!(s.keys(), vec!["a".to_owned(), "b".to_owned()]);
    }

    #[test]
    fn errors_read_as_operator_messages() {
        assert_eq!(
            StoreError::Host { status: 2 }.to_string(),
            "shared data host call failed with status 2"
        );
        assert!(StoreError::CasMismatch.to_string().contains("CAS mismatch"));
    }
}
