//! Regenerate `include/gatehouse.h`:
//! `cargo run --release -p gatehouse-ffi --example gen_header`.

#[path = "../tests/support/header.rs"]
mod header;

use std::path::Path;

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = header::generate(dir);
    let path = dir.join("include/gatehouse.h");
    std::fs::write(&path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    println!("wrote {}", path.display());
}
