//! The restricted-resource check allocates nothing on a path with nothing to decode, the path of
//! almost every request: counted by a global allocator (this file's only test, so no other test
//! allocates meanwhile).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use apiward::probes::Probes;

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded to the system allocator unchanged; only a counter is added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller's contract is the one System::alloc needs.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from System::alloc with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn checking_a_plain_path_allocates_nothing() {
    let probes = Probes::default();
    let paths = [
        "/api/v2/orders/8f14e45f-ceea-467f-a0e6-1b2c3d4e5f60/items",
        "/v1/files/reports/2024/q1-summary.pdf",
        "/api/v1/backups",
        "/.well-known/openid-configuration",
        "/static/.git/config",
        "/index.php.bak",
        "/CVS/Entries",
    ];
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    let mut hits = 0;
    for _ in 0..100 {
        for p in paths {
            hits += usize::from(probes.check(std::hint::black_box(p)).is_some());
        }
    }
    let allocations = ALLOCATIONS.load(Ordering::Relaxed) - before;
    assert_eq!(hits, 300);
    assert_eq!(allocations, 0);
    // A path with something to decode pays the decoder's copies (one per decoding step of
    // a pass, as routing pays them), nothing per segment or rule.
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    assert!(probes.check("/%2egit/config").is_some());
    let decoding = ALLOCATIONS.load(Ordering::Relaxed) - before;
    assert!((1..=4).contains(&decoding), "{decoding}");
    let long = format!("/v1/objects/{}", "a%20b/".repeat(200));
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    assert!(probes.check(&long).is_none());
    let decoding_long = ALLOCATIONS.load(Ordering::Relaxed) - before;
    assert!(decoding_long <= 8, "{decoding_long}");
}
