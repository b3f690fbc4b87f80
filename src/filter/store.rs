//! [`SharedStore`] over the host's shared data (shared by every worker VM of the proxy).

use super::abi::{self, SharedDataError};
use crate::state::{SharedStore, StoreError};

/// The proxy's shared data, through host calls that report every status instead of panicking.
#[derive(Debug, Clone, Copy, Default)]
pub struct HostStore;

fn store_error(e: SharedDataError) -> StoreError {
    match e {
        SharedDataError::CasMismatch => StoreError::CasMismatch,
        SharedDataError::Host(s) => StoreError::Host { status: s.0 },
    }
}

impl SharedStore for HostStore {
    fn get(&self, key: &str) -> Result<Option<(Vec<u8>, u32)>, StoreError> {
        abi::shared_data(key).map_err(store_error)
    }

    fn set(&self, key: &str, value: &[u8], cas: u32) -> Result<(), StoreError> {
        abi::set_shared_data(key, value, cas).map_err(store_error)
    }
}
