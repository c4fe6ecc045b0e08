//! The committed header is exactly what the pinned cbindgen generates.

#[path = "support/header.rs"]
mod header;

use std::path::Path;

#[test]
fn header_is_current() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let fresh = header::generate(dir);
    let tmp = std::env::temp_dir().join(format!("gatehouse-header-{}.h", std::process::id()));
    std::fs::write(&tmp, &fresh).expect("write the regenerated header");
    let committed = std::fs::read_to_string(dir.join("include/gatehouse.h")).unwrap_or_default();
    let same = committed == fresh;
    if same {
        let _ = std::fs::remove_file(&tmp);
    }
    assert!(
        same,
        "include/gatehouse.h is stale (regenerated copy: {}). Fix: \
         cargo run --release -p gatehouse-ffi --example gen_header",
        tmp.display()
    );
}
