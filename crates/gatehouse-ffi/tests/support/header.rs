//! Header generation, shared by `examples/gen_header.rs` (writes the
//! header) and `tests/header.rs` (checks the committed one is current).

use std::path::Path;

/// The header text cbindgen generates for the crate at `crate_dir`.
pub fn generate(crate_dir: &Path) -> String {
    let mut config =
        cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).expect("cbindgen.toml parses");
    config.after_includes = Some(format!(
        "\n/* The library version these declarations belong to (see gatehouse_version). */\n#define GATEHOUSE_VERSION \"{}\"",
        env!("CARGO_PKG_VERSION")
    ));
    let bindings = cbindgen::Builder::new()
        .with_config(config)
        .with_src(crate_dir.join("src/lib.rs"))
        .generate()
        .expect("cbindgen generates the header");
    let mut out = Vec::new();
    bindings.write(&mut out);
    String::from_utf8(out).expect("the header is UTF-8")
}
